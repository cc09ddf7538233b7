package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Stats are kept per child instance; KV events of both sides are passed on, in child order. */
class TelemetryTest {
    private static final KvEvent STORED =
            new KvEvent.BlockStored(List.of(new BlockHash(1, 2, 3, 4)), Optional.empty(), 4, 0, StorageMedium.CPU);
    private static final KvEvent REMOVED =
            new KvEvent.BlockRemoved(List.of(new BlockHash(5, 6, 7, 8)), 0, StorageMedium.DISK);

    @Test
    void twoChildrenOfTheSameTypeKeepTheirStatsApartAcrossSidesRanksAndSteps() {
        Harness h = new Harness(2, "offload", "offload");
        h.child(0).stats = Optional.of(CounterStats.of("stored_blocks", 1L));
        h.child(1).stats = Optional.of(CounterStats.of("stored_blocks", 10L));
        h.worker(0, 0).stats = Optional.of(CounterStats.of("bytes", 100L));
        h.worker(1, 0).stats = Optional.of(CounterStats.of("bytes", 100L));
        h.worker(1, 1).stats = Optional.of(CounterStats.of("bytes", 7L));

        ConnectorStats schedulerSide = h.scheduler.takeStats().orElseThrow();
        ConnectorOutput out = h.step();
        ConnectorStats total = schedulerSide.aggregate(out.stats().orElseThrow());

        Map<String, Number> expected = new LinkedHashMap<>();
        expected.put("0:offload.bytes", 200L);
        expected.put("0:offload.stored_blocks", 1L);
        expected.put("1:offload.bytes", 7L);
        expected.put("1:offload.stored_blocks", 10L);
        assertEquals(expected, total.summary());
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(total.summary().keySet()), "a stable order");
        assertEquals(
                Optional.of(CounterStats.of("bytes", 200L)),
                h.child(0).lastOutput().stats(),
                "each child sees its own workers' stats");
        assertEquals(Optional.empty(), h.scheduler.takeStats(), "taken: nothing left");
    }

    @Test
    void statsAggregationIsCommutativeAssociativeAndContainsAChildsFailure() {
        var a = new MultiStats(Map.of("0:x", CounterStats.of("n", 1L)));
        var b = new MultiStats(Map.of("0:x", CounterStats.of("n", 2L), "1:y", CounterStats.of("m", 5L)));
        var c = new MultiStats(Map.of("1:y", CounterStats.of("m", 1L)));
        assertEquals(a.aggregate(b), b.aggregate(a));
        assertEquals(a.aggregate(b).aggregate(c), a.aggregate(b.aggregate(c)));
        assertEquals(new MultiStats(Map.of("0:x", CounterStats.of("n", 1L))), a, "operands unchanged");
        assertFalse(a.isEmpty());
        assertTrue(new MultiStats(Map.of("0:x", CounterStats.EMPTY)).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> a.aggregate(CounterStats.of("n", 1L)));

        ConnectorStats broken = new ConnectorStats() {
            @Override
            public ConnectorStats aggregate(ConnectorStats other) {
                throw new IllegalStateException("broken");
            }

            @Override
            public boolean isEmpty() {
                return false;
            }

            @Override
            public Map<String, Number> summary() {
                return Map.of("v", 1);
            }
        };
        var withBroken = new MultiStats(Map.of("0:x", broken, "1:y", CounterStats.of("m", 1L)));
        var sum = assertInstanceOf(MultiStats.class, withBroken.aggregate(c));
        assertEquals(2L, sum.summary().get("1:y.m"), "the healthy child still adds up");
        sum = assertInstanceOf(MultiStats.class, withBroken.aggregate(withBroken));
        assertEquals(1L, sum.summary().get("0:x.aggregate_failures"));
        assertEquals(1, sum.summary().get("0:x.v"), "the broken child's earlier value is kept");
    }

    @Test
    void childKeysOrderByIndex() {
        var s = new MultiStats(Map.of("10:x", CounterStats.of("n", 1L), "2:x", CounterStats.of("n", 1L)));
        assertEquals(List.of("2:x.n", "10:x.n"), List.copyOf(s.summary().keySet()));
    }

    @Test
    void workerEventsArePassedOnAndSchedulerEventsConcatenatedInChildOrder() {
        Harness h = new Harness(2, "a", "b");
        h.worker(0, 1).events = List.of(REMOVED);
        h.worker(0, 0).events = List.of(STORED);
        h.worker(1, 0).events = List.of(STORED);

        ConnectorOutput out = h.step();
        assertEquals(List.of(STORED, REMOVED), h.perRankOutputs.getLast().get(0).events(), "child order");
        assertEquals(List.of(STORED, REMOVED, STORED), out.workerEvents(), "passed on, not dropped");
        assertEquals(List.of(STORED), h.child(0).lastOutput().workerEvents(), "one copy of the same store");
        assertEquals(List.of(REMOVED), h.child(1).lastOutput().workerEvents());

        h.child(1).events = List.of(REMOVED);
        h.child(0).events = List.of(STORED);
        assertEquals(List.of(STORED, REMOVED), h.scheduler.takeEvents());
        assertEquals(List.of(), h.scheduler.takeEvents());
    }
}
