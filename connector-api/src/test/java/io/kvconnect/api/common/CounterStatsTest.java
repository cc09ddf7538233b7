package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CounterStatsTest {
    private record OtherStats() implements ConnectorStats {
        @Override
        public ConnectorStats aggregate(ConnectorStats other) {
            return this;
        }

        @Override
        public boolean isEmpty() {
            return true;
        }

        @Override
        public Map<String, Number> summary() {
            return Map.of();
        }
    }

    @Test
    void ofReadsPairsAndSumsRepeatedNames() {
        var s = CounterStats.of("hits", 3, "bytes", 4096L, "hits", 2);
        assertEquals(5L, s.get("hits"));
        assertEquals(4096L, s.get("bytes"));
        assertEquals(0L, s.get("missing"));
    }

    @Test
    void ofRejectsOddCountAndWrongTypes() {
        assertThrows(IllegalArgumentException.class, () -> CounterStats.of("hits"));
        assertThrows(IllegalArgumentException.class, () -> CounterStats.of(1, "hits"));
        assertThrows(IllegalArgumentException.class, () -> CounterStats.of("hits", "3"));
    }

    @Test
    void aggregateSumsWithoutMutatingOperands() {
        var a = CounterStats.of("hits", 1, "misses", 2);
        var b = CounterStats.of("hits", 10, "stores", 5);
        var sum = (CounterStats) a.aggregate(b);
        assertEquals(Map.of("hits", 11L, "misses", 2L, "stores", 5L), sum.counters());
        assertEquals(Map.of("hits", 1L, "misses", 2L), a.counters());
        assertEquals(Map.of("hits", 10L, "stores", 5L), b.counters());
        assertEquals(sum, b.aggregate(a));
    }

    @Test
    void aggregateWithAnotherStatsTypeRejected() {
        var a = CounterStats.of("hits", 1);
        assertThrows(IllegalArgumentException.class, () -> a.aggregate(new OtherStats()));
    }

    @Test
    void isEmptyWhenNoCountersOrAllZero() {
        assertTrue(CounterStats.EMPTY.isEmpty());
        assertTrue(CounterStats.of("hits", 0).isEmpty());
        assertFalse(CounterStats.of("hits", 0, "misses", 1).isEmpty());
    }

    @Test
    void countersCopiedSortedAndUnmodifiable() {
        var source = new HashMap<String, Long>(Map.of("b", 1L, "a", 2L, "c", 3L));
        var s = new CounterStats(source);
        source.put("a", 100L);
        assertEquals(2L, s.get("a"));
        assertEquals(List.of("a", "b", "c"), List.copyOf(s.counters().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> s.counters().put("d", 1L));
    }

    @Test
    void summarySortedByName() {
        var summary = CounterStats.of("zeta", 1, "alpha", 2, "mid", 3).summary();
        assertEquals(List.of("alpha", "mid", "zeta"), List.copyOf(summary.keySet()));
        assertEquals(2L, summary.get("alpha"));
        assertThrows(UnsupportedOperationException.class, () -> summary.put("x", 1));
    }
}
