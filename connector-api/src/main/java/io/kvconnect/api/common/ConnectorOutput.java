package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What the workers of one engine step reported in their {@code WorkerStepReport}s, aggregated
 * across all workers, as the scheduler side sees it in {@code
 * SchedulerConnector.updateConnectorOutput}.
 *
 * <p>Aggregation rules (the engine's executor applies them; connectors rely on them):
 * <ul>
 *   <li>a request id appears in {@link #finishedSending} or {@link #finishedReceiving} exactly
 *       once, in the step in which the last expected worker reported it (every worker, or the
 *       count the connector asked for with {@code SchedulerConnector.expectedFinishedCount()});
 *       a duplicate, late or unknown report is logged and dropped;</li>
 *   <li>{@link #invalidBlockIds} is the union over workers, together with the blocks the engine
 *       itself found a load did not fill before the step read them;</li>
 *   <li>{@link #stats} and {@link #workerMetadata} are folded from left to right in rank order
 *       with their own {@code aggregate}; a rank whose {@code aggregate} throws is left out of
 *       that step's value (the engine logs it);</li>
 *   <li>{@link #workerEvents} are concatenated in rank order, each distinct event once (every
 *       rank may report the same store).</li>
 * </ul>
 * Immutable: a composite connector that needs to show a child a different slice uses the
 * {@code with...} copies, so nothing has to be restored afterwards.
 *
 * @param finishedSending requests whose sends or saves completed; their delayed blocks may be freed
 * @param finishedReceiving requests whose asynchronous loads completed (successfully or not)
 * @param invalidBlockIds GPU block ids whose load failed; the engine applies its load-failure policy
 * @param stats worker-side stats of the step, aggregated
 * @param workerEvents worker-side KV events of the step
 * @param workerMetadata worker-to-scheduler metadata of the step, aggregated
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public record ConnectorOutput(
        Set<String> finishedSending,
        Set<String> finishedReceiving,
        Set<Integer> invalidBlockIds,
        Optional<ConnectorStats> stats,
        List<KvEvent> workerEvents,
        Optional<WorkerMetadata> workerMetadata) {

    /** An output that reports nothing. */
    public static final ConnectorOutput EMPTY =
            new ConnectorOutput(Set.of(), Set.of(), Set.of(), Optional.empty(), List.of(), Optional.empty());

    /** Copies every collection. */
    public ConnectorOutput {
        finishedSending = Set.copyOf(finishedSending);
        finishedReceiving = Set.copyOf(finishedReceiving);
        invalidBlockIds = Set.copyOf(invalidBlockIds);
        Objects.requireNonNull(stats, "stats");
        workerEvents = List.copyOf(workerEvents);
        Objects.requireNonNull(workerMetadata, "workerMetadata");
    }

    /** {@return whether nothing at all was reported} */
    public boolean isEmpty() {
        return finishedSending.isEmpty()
                && finishedReceiving.isEmpty()
                && invalidBlockIds.isEmpty()
                && stats.map(ConnectorStats::isEmpty).orElse(true)
                && workerEvents.isEmpty()
                && workerMetadata.isEmpty();
    }

    /**
     * {@return a copy with other worker metadata}
     *
     * @param metadata the copy's worker metadata
     */
    public ConnectorOutput withWorkerMetadata(Optional<WorkerMetadata> metadata) {
        return new ConnectorOutput(finishedSending, finishedReceiving, invalidBlockIds, stats, workerEvents, metadata);
    }

    /**
     * {@return a copy with other stats}
     *
     * @param newStats the copy's stats
     */
    public ConnectorOutput withStats(Optional<ConnectorStats> newStats) {
        return new ConnectorOutput(
                finishedSending, finishedReceiving, invalidBlockIds, newStats, workerEvents, workerMetadata);
    }

    /**
     * {@return a copy with other worker events}
     *
     * @param events the copy's worker events (copied)
     */
    public ConnectorOutput withWorkerEvents(List<KvEvent> events) {
        return new ConnectorOutput(finishedSending, finishedReceiving, invalidBlockIds, stats, events, workerMetadata);
    }
}
