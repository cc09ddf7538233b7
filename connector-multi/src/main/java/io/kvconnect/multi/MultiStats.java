package io.kvconnect.multi;

import io.kvconnect.api.common.ConnectorStats;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * The stats of a composite, kept per child instance: two children of the same type ({@code
 * 0:offload} and {@code 1:offload}) never mix. Immutable.
 *
 * <p>Both sides of the composite report this type (the scheduler side from {@code takeStats}, the
 * workers in their step reports), so the engine can fold scheduler-side and worker-side values of
 * every rank and step with {@link #aggregate}: entries of the same child are combined with that
 * child's own {@code aggregate}. A child whose {@code
 * aggregate} throws keeps its earlier value and has the failure counted (summary key {@code
 * <child>.aggregate_failures}), so one broken child cannot lose the other children's stats.
 *
 * @param byChild child instance key to that child's stats
 * @param aggregateFailures child instance key to how often its {@code aggregate} threw
 */
record MultiStats(Map<String, ConnectorStats> byChild, Map<String, Long> aggregateFailures) implements ConnectorStats {

    /** Copies both maps, ordered by child. */
    MultiStats {
        byChild = sorted(byChild);
        aggregateFailures = sorted(aggregateFailures);
    }

    /** Stats of the given children, without failures. */
    MultiStats(Map<String, ConnectorStats> byChild) {
        this(byChild, Map.of());
    }

    /**
     * This value combined with {@code other}, entry by entry; neither operand changes.
     *
     * @throws IllegalArgumentException if {@code other} is not a composite's stats
     */
    @Override
    public ConnectorStats aggregate(ConnectorStats other) {
        if (!(other instanceof MultiStats o)) {
            throw new IllegalArgumentException("cannot aggregate the multi connector's stats with "
                    + other.getClass().getName());
        }
        Map<String, ConnectorStats> merged = new LinkedHashMap<>(byChild);
        Map<String, Long> failures = new LinkedHashMap<>(aggregateFailures);
        o.aggregateFailures.forEach((k, v) -> failures.merge(k, v, Long::sum));
        o.byChild.forEach((key, value) -> {
            ConnectorStats mine = merged.get(key);
            if (mine == null) {
                merged.put(key, value);
                return;
            }
            try {
                ConnectorStats sum = mine.aggregate(value);
                if (sum == null) {
                    throw new NullPointerException("aggregate returned null");
                }
                merged.put(key, sum);
            } catch (RuntimeException | LinkageError e) {
                // Keep the earlier value: losing one step of one child's telemetry beats losing all children's.
                failures.merge(key, 1L, Long::sum);
            }
        });
        return new MultiStats(merged, failures);
    }

    @Override
    public boolean isEmpty() {
        return aggregateFailures.isEmpty() && byChild.values().stream().allMatch(ConnectorStats::isEmpty);
    }

    /** Every child's summary with its keys prefixed by the child's instance key, such as {@code 1:offload.stored_blocks}. */
    @Override
    public Map<String, Number> summary() {
        Map<String, Number> out = new LinkedHashMap<>();
        byChild.forEach((key, stats) -> stats.summary().forEach((name, value) -> out.put(key + "." + name, value)));
        aggregateFailures.forEach((key, n) -> out.put(key + ".aggregate_failures", n));
        return Collections.unmodifiableMap(out);
    }

    /**
     * Takes every child's stats ({@code take.apply(i)} for child {@code i}), each under its key; a
     * child whose call throws (or returns null) is recorded in {@code failures} and left out.
     *
     * @return the stats, or empty if no child had any
     */
    static Optional<ConnectorStats> take(
            List<String> keys, IntFunction<Optional<ConnectorStats>> take, Failures failures) {
        Map<String, ConnectorStats> byChild = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            try {
                Objects.requireNonNull(take.apply(i), "takeStats returned null").ifPresent(s -> byChild.put(key, s));
            } catch (RuntimeException | LinkageError e) {
                failures.record(key, "takeStats", e);
            }
        }
        return byChild.isEmpty() ? Optional.empty() : Optional.of(new MultiStats(byChild));
    }

    private static <V> Map<String, V> sorted(Map<String, V> map) {
        var copy = new TreeMap<String, V>(ChildKeys.ORDER);
        copy.putAll(map);
        return Collections.unmodifiableMap(copy);
    }
}
