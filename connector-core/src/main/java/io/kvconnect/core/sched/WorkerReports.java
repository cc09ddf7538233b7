package io.kvconnect.core.sched;

import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What the worker sides of the connector reported in one step, as the executor hands it to the
 * scheduler: each rank's finished transfers as reported (the scheduler's {@link TransferBook}
 * counts them, since only it knows what it waits for), and the other parts already folded over
 * the ranks.
 *
 * @param finishedByRank each rank's finished sends and receives, indexed by rank ({@link
 *     FinishedTransfers#NONE} for a rank that reported none); empty if no worker had a connector
 *     output at all
 * @param invalidBlockIds the union of every rank's failed-load blocks
 * @param stats the ranks' stats, aggregated in rank order
 * @param events the ranks' KV events, each distinct event once, in first-appearance order
 * @param workerMetadata the ranks' metadata, aggregated in rank order
 */
public record WorkerReports(
        List<FinishedTransfers> finishedByRank,
        Set<Integer> invalidBlockIds,
        Optional<ConnectorStats> stats,
        List<KvEvent> events,
        Optional<WorkerMetadata> workerMetadata) {
    /** No worker had a connector output: there is no connector, or it was detached. */
    public static final WorkerReports NONE =
            new WorkerReports(List.of(), Set.of(), Optional.empty(), List.of(), Optional.empty());

    /** Copies every collection. */
    public WorkerReports {
        finishedByRank = List.copyOf(finishedByRank);
        invalidBlockIds = Set.copyOf(invalidBlockIds);
        Objects.requireNonNull(stats, "stats");
        events = List.copyOf(events);
        Objects.requireNonNull(workerMetadata, "workerMetadata");
    }

    /** Whether no worker had a connector output (see {@link #NONE}). */
    public boolean isNone() {
        return finishedByRank.isEmpty();
    }
}
