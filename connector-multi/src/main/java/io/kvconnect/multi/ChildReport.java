package io.kvconnect.multi;

import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one child's worker sides reported in one step, kept apart from the other children's so the
 * scheduler side can show each child exactly its own part (see {@link MultiWorkerMetadata}).
 * Immutable.
 *
 * @param metadata the child's own worker-to-scheduler metadata, aggregated over ranks
 * @param events the child's worker-side KV events, in order, one copy of each
 * @param invalidBlockIds GPU blocks whose loads by this child failed
 * @param sending relay mode only: request id to the ranks whose child side reported its send finished
 * @param receiving relay mode only: request id to the ranks whose child side reported its load finished
 * @param aggregateFailures what went wrong when the child's metadata {@code aggregate} threw (the
 *     earlier value was kept); at most {@value #MAX_FAILURES} messages
 */
record ChildReport(
        Optional<WorkerMetadata> metadata,
        List<KvEvent> events,
        Set<Integer> invalidBlockIds,
        Map<String, Set<Integer>> sending,
        Map<String, Set<Integer>> receiving,
        List<String> aggregateFailures) {
    static final int MAX_FAILURES = 4;

    /** Nothing reported. */
    static final ChildReport EMPTY =
            new ChildReport(Optional.empty(), List.of(), Set.of(), Map.of(), Map.of(), List.of());

    /** Copies every collection. */
    ChildReport {
        events = List.copyOf(events);
        invalidBlockIds = Set.copyOf(invalidBlockIds);
        sending = copyRanks(sending);
        receiving = copyRanks(receiving);
        aggregateFailures = List.copyOf(aggregateFailures.subList(0, Math.min(MAX_FAILURES, aggregateFailures.size())));
    }

    /** Whether nothing at all was reported. */
    boolean isEmpty() {
        return metadata.isEmpty()
                && events.isEmpty()
                && invalidBlockIds.isEmpty()
                && sending.isEmpty()
                && receiving.isEmpty()
                && aggregateFailures.isEmpty();
    }

    /**
     * This report combined with another rank's report of the same child and step; neither changes.
     * The metadata is folded with the child's own {@code aggregate}; if that throws, this value's
     * metadata is kept and the failure recorded, so the scheduler side can name the child.
     */
    ChildReport merge(ChildReport other) {
        if (other.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return other;
        }
        List<String> failures = new java.util.ArrayList<>(aggregateFailures);
        failures.addAll(other.aggregateFailures);
        Optional<WorkerMetadata> merged;
        if (metadata.isEmpty() || other.metadata.isEmpty()) {
            merged = metadata.isPresent() ? metadata : other.metadata;
        } else {
            merged = metadata;
            try {
                merged = Optional.of(metadata.get().aggregate(other.metadata.get()));
            } catch (RuntimeException | LinkageError e) {
                failures.add("worker metadata aggregate threw: " + e);
            }
        }
        // Events: concatenated in rank order, one copy of each (every rank may report the same store).
        Set<KvEvent> events = new LinkedHashSet<>(this.events);
        events.addAll(other.events);
        Set<Integer> invalid = new TreeSet<>(invalidBlockIds);
        invalid.addAll(other.invalidBlockIds);
        return new ChildReport(
                merged,
                List.copyOf(events),
                invalid,
                union(sending, other.sending),
                union(receiving, other.receiving),
                failures);
    }

    private static Map<String, Set<Integer>> union(Map<String, Set<Integer>> a, Map<String, Set<Integer>> b) {
        if (b.isEmpty()) {
            return a;
        }
        if (a.isEmpty()) {
            return b;
        }
        Map<String, Set<Integer>> out = new HashMap<>(a);
        b.forEach((id, ranks) -> out.merge(id, ranks, (x, y) -> {
            Set<Integer> u = new TreeSet<>(x);
            u.addAll(y);
            return u;
        }));
        return out;
    }

    private static Map<String, Set<Integer>> copyRanks(Map<String, Set<Integer>> map) {
        if (map.isEmpty()) {
            return Map.of();
        }
        Map<String, Set<Integer>> copy = new HashMap<>(map.size() * 2);
        map.forEach((id, ranks) -> copy.put(id, Set.copyOf(ranks)));
        return Collections.unmodifiableMap(copy);
    }
}
