package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What one worker's side of a connector reports at the end of one engine step, returned once from
 * {@link WorkerConnector#reportStep}: the counterpart of the reference engine's per-worker {@code
 * KVConnectorOutput}.
 *
 * <p>The engine combines the reports of all workers of a step into the {@code ConnectorOutput}
 * the scheduler side receives (see there for the aggregation rules): finished transfers are
 * counted per rank, failed-load blocks are united, stats and worker metadata are folded with their
 * own {@code aggregate}, events are concatenated.
 *
 * <p><b>Building one.</b> Return {@link #EMPTY} in a step with nothing to say (no allocation), or
 * use {@link #builder()}. A part that may fail (stats from a library, say) is best computed before
 * the transfers are drained into the report, or caught: an exception thrown from {@code reportStep}
 * loses the whole report (see {@link WorkerConnector#reportStep}). A connector that contained such
 * a failure, or a composite one of whose children failed, reports the rest and names the failure in
 * {@link #failure()}.
 *
 * <p>Immutable: the collections are copied. Safe to hand to another thread.
 *
 * @param finishedSending requests whose sends or saves finished on this worker: the engine may free
 *     their delayed blocks once every expected worker reported them. Only requests whose free the
 *     scheduler side delayed ({@code FinishResult.delayFree}) may appear, each once per worker
 * @param finishedReceiving requests whose asynchronous loads finished on this worker, successfully
 *     or not; each once per worker and load
 * @param invalidBlockIds GPU block ids whose loads failed on this worker; reported no later than
 *     the step in which the load's request appears in {@code finishedReceiving} (for an asynchronous
 *     load) or in the step of the load (for a synchronous one)
 * @param stats this worker's stats since its previous report (then reset)
 * @param events this worker's KV events since its previous report, in order
 * @param workerMetadata this worker's metadata for the scheduler side, for this step
 * @param failure a failure the connector contained while building the report, which may have left
 *     {@code invalidBlockIds} incomplete; the engine handles it as a failure of {@code reportStep}
 *     (see there) but keeps every part reported
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public record WorkerStepReport(
        Set<String> finishedSending,
        Set<String> finishedReceiving,
        Set<Integer> invalidBlockIds,
        Optional<ConnectorStats> stats,
        List<KvEvent> events,
        Optional<WorkerMetadata> workerMetadata,
        Optional<Throwable> failure) {

    /** A report that says nothing: the usual step's answer. */
    public static final WorkerStepReport EMPTY = new WorkerStepReport(
            Set.of(), Set.of(), Set.of(), Optional.empty(), List.of(), Optional.empty(), Optional.empty());

    /**
     * Copies every collection.
     *
     * @throws NullPointerException if a component or an element is null
     */
    public WorkerStepReport {
        finishedSending = Set.copyOf(finishedSending);
        finishedReceiving = Set.copyOf(finishedReceiving);
        invalidBlockIds = Set.copyOf(invalidBlockIds);
        Objects.requireNonNull(stats, "stats");
        events = List.copyOf(events);
        Objects.requireNonNull(workerMetadata, "workerMetadata");
        Objects.requireNonNull(failure, "failure");
    }

    /** {@return whether the report says nothing at all} Stats that recorded nothing count as nothing. */
    public boolean isEmpty() {
        return finishedSending.isEmpty()
                && finishedReceiving.isEmpty()
                && invalidBlockIds.isEmpty()
                && stats.map(ConnectorStats::isEmpty).orElse(true)
                && events.isEmpty()
                && workerMetadata.isEmpty()
                && failure.isEmpty();
    }

    /** {@return a builder of one report, empty} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Collects the parts of one report. Each {@code add...} method adds to what was added before;
     * each other method replaces. Not thread-safe: one builder per report, on one thread.
     */
    @Stability(value = Stability.Level.EVOLVING, since = "0.1")
    public static final class Builder {
        // Each part is null until something is added: a builder of an empty report allocates
        // nothing but itself.
        private @Nullable Set<String> sending;
        private @Nullable Set<String> receiving;
        private @Nullable Set<Integer> invalid;
        private @Nullable ConnectorStats stats;
        private @Nullable List<KvEvent> events;
        private @Nullable WorkerMetadata metadata;
        private @Nullable Throwable failure;

        private Builder() {}

        /**
         * Adds requests whose sends or saves finished on this worker.
         *
         * @param requestIds the requests
         * @return this builder
         */
        public Builder addFinishedSending(Collection<String> requestIds) {
            if (!requestIds.isEmpty()) {
                sending = addAll(sending, requestIds);
            }
            return this;
        }

        /**
         * Adds requests whose asynchronous loads finished on this worker, successfully or not.
         *
         * @param requestIds the requests
         * @return this builder
         */
        public Builder addFinishedReceiving(Collection<String> requestIds) {
            if (!requestIds.isEmpty()) {
                receiving = addAll(receiving, requestIds);
            }
            return this;
        }

        /**
         * Adds GPU block ids whose loads failed on this worker.
         *
         * @param blockIds the blocks
         * @return this builder
         */
        public Builder addInvalidBlockIds(Collection<Integer> blockIds) {
            if (!blockIds.isEmpty()) {
                invalid = addAll(invalid, blockIds);
            }
            return this;
        }

        /**
         * Adds KV events, after those added before.
         *
         * @param kvEvents the events, in order
         * @return this builder
         */
        public Builder addEvents(List<KvEvent> kvEvents) {
            if (!kvEvents.isEmpty()) {
                if (events == null) {
                    events = new ArrayList<>(kvEvents.size());
                }
                events.addAll(kvEvents);
            }
            return this;
        }

        /**
         * Sets the report's stats.
         *
         * @param value the stats, or empty for none
         * @return this builder
         */
        public Builder stats(Optional<ConnectorStats> value) {
            stats = value.orElse(null);
            return this;
        }

        /**
         * Sets the report's worker metadata.
         *
         * @param value the metadata, or empty for none
         * @return this builder
         */
        public Builder workerMetadata(Optional<WorkerMetadata> value) {
            metadata = value.orElse(null);
            return this;
        }

        /**
         * Records a failure the connector contained (see {@link WorkerStepReport#failure()}). A
         * second failure is kept as a suppressed exception of the first.
         *
         * @param error what went wrong
         * @return this builder
         */
        public Builder failure(Throwable error) {
            Objects.requireNonNull(error, "error");
            if (failure == null) {
                failure = error;
            } else if (failure != error) {
                failure.addSuppressed(error);
            }
            return this;
        }

        /** {@return the report; {@link #EMPTY} if nothing was added} */
        public WorkerStepReport build() {
            if (sending == null
                    && receiving == null
                    && invalid == null
                    && stats == null
                    && events == null
                    && metadata == null
                    && failure == null) {
                return EMPTY;
            }
            return new WorkerStepReport(
                    orEmpty(sending),
                    orEmpty(receiving),
                    orEmpty(invalid),
                    Optional.ofNullable(stats),
                    events == null ? List.of() : events,
                    Optional.ofNullable(metadata),
                    Optional.ofNullable(failure));
        }

        private static <T> Set<T> addAll(@Nullable Set<T> into, Collection<T> more) {
            Set<T> out = into == null ? new LinkedHashSet<>() : into;
            out.addAll(more);
            return out;
        }

        private static <T> Set<T> orEmpty(@Nullable Set<T> s) {
            return s == null ? Set.of() : s;
        }
    }
}
