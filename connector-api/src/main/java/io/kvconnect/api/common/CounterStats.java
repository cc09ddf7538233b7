package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@link ConnectorStats} made of named counters that add up. Enough for most connectors:
 * {@code CounterStats.of("bytes_stored", 4096, "blocks_stored", 1)}.
 *
 * @param counters counter name to value; copied and sorted by name
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public record CounterStats(Map<String, Long> counters) implements ConnectorStats {
    /** No counters. */
    public static final CounterStats EMPTY = new CounterStats(Map.of());

    /** Copies and sorts the counters. */
    public CounterStats {
        counters = java.util.Collections.unmodifiableMap(new TreeMap<>(counters));
    }

    /**
     * {@return counters from alternating names and values} For example {@code of("hits", 3L)}; a
     * name given twice adds up.
     *
     * @param namesAndValues a {@code String} name, then a {@code Number}, repeated
     * @throws IllegalArgumentException if the arguments are not name/number pairs
     */
    public static CounterStats of(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("expected name/value pairs");
        }
        var map = new LinkedHashMap<String, Long>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (!(namesAndValues[i] instanceof String name) || !(namesAndValues[i + 1] instanceof Number n)) {
                throw new IllegalArgumentException("expected a String name and a Number at " + i);
            }
            map.merge(name, n.longValue(), Long::sum);
        }
        return new CounterStats(map);
    }

    /**
     * {@return the value of counter {@code name}, 0 when absent}
     *
     * @param name a counter name
     */
    public long get(String name) {
        return counters.getOrDefault(name, 0L);
    }

    @Override
    public ConnectorStats aggregate(ConnectorStats other) {
        if (!(other instanceof CounterStats o)) {
            throw new IllegalArgumentException(
                    "cannot aggregate CounterStats with " + other.getClass().getName());
        }
        var sum = new TreeMap<>(counters);
        o.counters.forEach((k, v) -> sum.merge(k, v, Long::sum));
        return new CounterStats(sum);
    }

    @Override
    public boolean isEmpty() {
        return counters.values().stream().allMatch(v -> v == 0L);
    }

    @Override
    public Map<String, Number> summary() {
        return java.util.Collections.unmodifiableMap(new TreeMap<String, Number>(counters));
    }
}
