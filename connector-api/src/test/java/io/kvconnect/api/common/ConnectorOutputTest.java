package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConnectorOutputTest {
    private record Done(int jobs) implements WorkerMetadata {
        @Override
        public WorkerMetadata aggregate(WorkerMetadata other) {
            return new Done(jobs + ((Done) other).jobs);
        }
    }

    private static final KvEvent CLEARED = new KvEvent.AllBlocksCleared(StorageMedium.CPU);

    private static ConnectorOutput sample() {
        return new ConnectorOutput(
                Set.of("s"),
                Set.of("r"),
                Set.of(7),
                Optional.of(CounterStats.of("hits", 1)),
                List.of(CLEARED),
                Optional.of(new Done(1)));
    }

    @Test
    void emptyIsEmpty() {
        assertTrue(ConnectorOutput.EMPTY.isEmpty());
    }

    @Test
    void anyReportMakesItNonEmpty() {
        var e = ConnectorOutput.EMPTY;
        assertFalse(new ConnectorOutput(Set.of("s"), Set.of(), Set.of(), Optional.empty(), List.of(), Optional.empty())
                .isEmpty());
        assertFalse(new ConnectorOutput(Set.of(), Set.of("r"), Set.of(), Optional.empty(), List.of(), Optional.empty())
                .isEmpty());
        assertFalse(new ConnectorOutput(Set.of(), Set.of(), Set.of(3), Optional.empty(), List.of(), Optional.empty())
                .isEmpty());
        assertFalse(e.withStats(Optional.of(CounterStats.of("hits", 1))).isEmpty());
        assertFalse(e.withWorkerEvents(List.of(CLEARED)).isEmpty());
        assertFalse(e.withWorkerMetadata(Optional.of(new Done(0))).isEmpty());
    }

    @Test
    void emptyStatsStillCountAsEmpty() {
        assertTrue(ConnectorOutput.EMPTY
                .withStats(Optional.of(CounterStats.of("hits", 0)))
                .isEmpty());
    }

    @Test
    void collectionsCopiedAndImmutable() {
        var sending = new HashSet<>(Set.of("a"));
        var events = new ArrayList<KvEvent>(List.of(CLEARED));
        var out = new ConnectorOutput(sending, Set.of(), Set.of(), Optional.empty(), events, Optional.empty());
        sending.add("b");
        events.clear();
        assertEquals(Set.of("a"), out.finishedSending());
        assertEquals(List.of(CLEARED), out.workerEvents());
        assertThrows(
                UnsupportedOperationException.class, () -> out.finishedSending().add("c"));
        assertThrows(UnsupportedOperationException.class, () -> out.finishedReceiving()
                .add("c"));
        assertThrows(
                UnsupportedOperationException.class, () -> out.invalidBlockIds().add(1));
        assertThrows(
                UnsupportedOperationException.class, () -> out.workerEvents().add(CLEARED));
    }

    @Test
    void nullOptionalsRejected() {
        assertThrows(
                NullPointerException.class,
                () -> new ConnectorOutput(Set.of(), Set.of(), Set.of(), null, List.of(), Optional.empty()));
        assertThrows(
                NullPointerException.class,
                () -> new ConnectorOutput(Set.of(), Set.of(), Set.of(), Optional.empty(), List.of(), null));
    }

    @Test
    void withWorkerMetadataLeavesOriginalUnchanged() {
        var original = sample();
        var copy = original.withWorkerMetadata(Optional.empty());
        assertEquals(Optional.of(new Done(1)), original.workerMetadata());
        assertEquals(Optional.empty(), copy.workerMetadata());
        assertEquals(original.withWorkerMetadata(original.workerMetadata()), original);
        assertEquals(original.finishedSending(), copy.finishedSending());
        assertEquals(original.stats(), copy.stats());
    }

    @Test
    void withStatsLeavesOriginalUnchanged() {
        var original = sample();
        var copy = original.withStats(Optional.of(CounterStats.of("hits", 9)));
        assertEquals(Optional.of(CounterStats.of("hits", 1)), original.stats());
        assertEquals(Optional.of(CounterStats.of("hits", 9)), copy.stats());
        assertEquals(original.workerEvents(), copy.workerEvents());
        assertEquals(original.workerMetadata(), copy.workerMetadata());
    }

    @Test
    void withWorkerEventsLeavesOriginalUnchanged() {
        var original = sample();
        var copy = original.withWorkerEvents(List.of());
        assertEquals(List.of(CLEARED), original.workerEvents());
        assertEquals(List.of(), copy.workerEvents());
        assertEquals(original.finishedReceiving(), copy.finishedReceiving());
        assertEquals(original.invalidBlockIds(), copy.invalidBlockIds());
    }
}
