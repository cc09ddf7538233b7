package io.kvconnect.api.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.api.common.WorkerMetadata;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WorkerStepReportTest {
    private record Jobs(int n) implements WorkerMetadata {
        @Override
        public WorkerMetadata aggregate(WorkerMetadata other) {
            return new Jobs(n + ((Jobs) other).n);
        }
    }

    private static final KvEvent CLEARED = new KvEvent.AllBlocksCleared(StorageMedium.CPU);

    @Test
    void anEmptyBuilderBuildsTheSharedEmptyReport() {
        assertSame(WorkerStepReport.EMPTY, WorkerStepReport.builder().build());
        assertSame(
                WorkerStepReport.EMPTY,
                WorkerStepReport.builder()
                        .addFinishedSending(Set.of())
                        .addInvalidBlockIds(List.of())
                        .stats(Optional.empty())
                        .build(),
                "empty parts add nothing");
        assertTrue(WorkerStepReport.EMPTY.isEmpty());
    }

    @Test
    void theBuilderAddsToCollectionsAndReplacesSingleParts() {
        WorkerStepReport r = WorkerStepReport.builder()
                .addFinishedSending(List.of("s1"))
                .addFinishedSending(List.of("s2", "s1"))
                .addFinishedReceiving(Set.of("r"))
                .addInvalidBlockIds(List.of(4))
                .addInvalidBlockIds(List.of(5))
                .addEvents(List.of(CLEARED))
                .addEvents(List.of(CLEARED))
                .stats(Optional.of(CounterStats.of("a", 1L)))
                .stats(Optional.of(CounterStats.of("b", 2L)))
                .workerMetadata(Optional.of(new Jobs(1)))
                .build();

        assertEquals(Set.of("s1", "s2"), r.finishedSending());
        assertEquals(Set.of("r"), r.finishedReceiving());
        assertEquals(Set.of(4, 5), r.invalidBlockIds());
        assertEquals(List.of(CLEARED, CLEARED), r.events(), "events keep their order, repeats included");
        assertEquals(Optional.of(CounterStats.of("b", 2L)), r.stats());
        assertEquals(Optional.of(new Jobs(1)), r.workerMetadata());
        assertEquals(Optional.empty(), r.failure());
        assertFalse(r.isEmpty());
    }

    @Test
    void aSecondFailureIsKeptAsSuppressedByTheFirst() {
        var first = new IllegalStateException("first");
        var second = new IllegalArgumentException("second");
        WorkerStepReport r = WorkerStepReport.builder()
                .addFinishedReceiving(Set.of("r"))
                .failure(first)
                .failure(second)
                .build();

        assertSame(first, r.failure().orElseThrow());
        assertArrayEquals(new Throwable[] {second}, first.getSuppressed());
        assertEquals(Set.of("r"), r.finishedReceiving(), "the parts reported with a failure are kept");
        assertFalse(WorkerStepReport.builder().failure(first).build().isEmpty(), "a failure alone is news");
    }

    @Test
    void statsThatRecordedNothingMakeNoNews() {
        assertTrue(WorkerStepReport.builder()
                .stats(Optional.of(CounterStats.of("hits", 0L)))
                .build()
                .isEmpty());
    }

    @Test
    void theReportCopiesItsCollectionsAndIsImmutable() {
        var sending = new HashSet<>(Set.of("a"));
        var events = new ArrayList<KvEvent>(List.of(CLEARED));
        var r = new WorkerStepReport(
                sending, Set.of(), Set.of(), Optional.empty(), events, Optional.empty(), Optional.empty());
        sending.add("b");
        events.clear();

        assertEquals(Set.of("a"), r.finishedSending());
        assertEquals(List.of(CLEARED), r.events());
        assertThrows(
                UnsupportedOperationException.class, () -> r.finishedSending().add("c"));
        assertThrows(UnsupportedOperationException.class, () -> r.events().add(CLEARED));
    }

    @Test
    void nullPartsAreRefused() {
        assertThrows(
                NullPointerException.class,
                () -> new WorkerStepReport(
                        Set.of(), Set.of(), Set.of(), null, List.of(), Optional.empty(), Optional.empty()));
        assertThrows(
                NullPointerException.class, () -> WorkerStepReport.builder().failure(null));
        assertThrows(
                NullPointerException.class,
                () -> new WorkerStepReport(
                        Set.of(), Set.of(), Set.of(), Optional.empty(), List.of(), Optional.empty(), null));
    }
}
