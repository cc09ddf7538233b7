package io.kvconnect.redis;

import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.CounterStats;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Named counters of one connector side since the last {@link #take()}. Used by one thread (the
 * side's own hook thread).
 */
final class StatsCounter {
    private final Map<String, Long> counts = new LinkedHashMap<>();

    /** Adds {@code delta} to counter {@code name}. */
    void add(String name, long delta) {
        counts.merge(name, delta, Long::sum);
    }

    /** The counts since the last call as stats, then zero; empty if nothing was counted. */
    Optional<ConnectorStats> take() {
        if (counts.isEmpty()) {
            return Optional.empty();
        }
        CounterStats out = new CounterStats(counts);
        counts.clear();
        return Optional.of(out);
    }
}
