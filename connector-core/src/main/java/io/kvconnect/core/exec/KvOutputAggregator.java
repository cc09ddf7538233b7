package io.kvconnect.core.exec;

import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.core.logging.RateLimitedLog;
import io.kvconnect.core.sched.AwaitingTransfers;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds the {@link ConnectorOutput}s that the workers of one engine step reported into the single
 * output the scheduler side of the connector sees (the executor-side half of vLLM's
 * {@code KVOutputAggregator}).
 *
 * <p>Owned and called by the engine thread only: {@link #aggregate} once per step after all workers
 * replied, {@link #forget} when the scheduler stops waiting for a request. Not thread-safe, because
 * nothing else ever touches it.
 *
 * <p>Finished sends and receives are counted per request id by distinct worker rank, across steps,
 * until the expected number of ranks has reported; the id is then emitted exactly once. Unlike
 * vLLM, a repeated report from the same rank is not counted twice, and a report for an id the
 * scheduler is not waiting for never starts a countdown, so no stray report can either complete a
 * transfer early or leave a counter behind forever. Plugin code ({@code aggregate} of stats and
 * worker metadata) that throws is contained here and never reaches the engine loop.
 *
 * <p>Every dropped report and contained failure is counted in {@link #counters()}; the log lines
 * about them go through a {@link RateLimitedLog}, because how many there are is up to the plugin
 * (one per id it reports, one per rank and step): a connector reporting 100,000 unknown ids in a
 * step costs a few lines, not 100,000.
 */
public final class KvOutputAggregator {
    private static final Logger LOG = LoggerFactory.getLogger(KvOutputAggregator.class);

    /** How many completed ids per direction are remembered, to tell a late report from an unknown one. */
    static final int RECENT_COMPLETED_CAPACITY = 4096;

    /**
     * Running totals of reports the aggregator dropped or plugin failures it contained, for the
     * engine's report and for tests. All counts are since construction.
     *
     * @param duplicates finished reports repeated by the same rank before the id completed
     * @param late finished reports for an id that completed recently (it is no longer awaited)
     * @param unknown finished reports for an id that is not awaited and did not complete recently
     * @param aggregateFailures calls of a connector's stats or metadata {@code aggregate} that threw
     */
    public record AggregatorCounters(long duplicates, long late, long unknown, long aggregateFailures) {
    }

    private final RateLimitedLog log;
    private final int numWorkers;
    private final int expected;
    private final Countdown sending;
    private final Countdown receiving;
    private long duplicates;
    private long late;
    private long unknown;
    private long aggregateFailures;

    /**
     * Creates the aggregator of one engine; the engine thread builds it once, when the connector is set up.
     *
     * @param numWorkers workers that report each step (every rank of the engine), at least 1
     * @param expectedFinishedCount how many distinct ranks must report an id before it is finished,
     *     as the connector's scheduler side asked; empty means every worker
     * @param awaiting the scheduler's view of which requests wait for a finished send or receive
     * @throws IllegalArgumentException if {@code numWorkers < 1} or the expected count is outside
     *     {@code [1, numWorkers]}
     */
    public KvOutputAggregator(int numWorkers, OptionalInt expectedFinishedCount, AwaitingTransfers awaiting) {
        this(numWorkers, expectedFinishedCount, awaiting, RateLimitedLog.forLogger(LOG));
    }

    /**
     * An aggregator that writes its lines about dropped reports and contained failures to {@code
     * log} (tests capture them; the engine uses its logger's shared limiter).
     *
     * @see #KvOutputAggregator(int, OptionalInt, AwaitingTransfers)
     */
    public KvOutputAggregator(int numWorkers, OptionalInt expectedFinishedCount, AwaitingTransfers awaiting,
                              RateLimitedLog log) {
        this.log = Objects.requireNonNull(log, "log");
        Objects.requireNonNull(expectedFinishedCount, "expectedFinishedCount");
        Objects.requireNonNull(awaiting, "awaiting");
        if (numWorkers < 1) {
            throw new IllegalArgumentException("numWorkers must be at least 1, got " + numWorkers);
        }
        int count = expectedFinishedCount.orElse(numWorkers);
        if (count < 1 || count > numWorkers) {
            throw new IllegalArgumentException(
                    "expected finished count must be in [1, " + numWorkers + "], got " + count);
        }
        this.numWorkers = numWorkers;
        this.expected = count;
        this.sending = new Countdown("send", awaiting::awaitingSend);
        this.receiving = new Countdown("receive", awaiting::awaitingReceive);
    }

    /**
     * Folds one step's worker outputs into one; called by the engine thread once per step, before
     * the result goes to the scheduler side.
     *
     * <p>Never throws because of what a connector reported or how its {@code aggregate} behaved:
     * such problems are logged and counted in {@link #counters()}.
     *
     * @param perRank one entry per worker, indexed by rank; {@code null} where that worker produced
     *     no output this step (its hooks failed), which contributes nothing
     * @return the aggregated output, {@link ConnectorOutput#EMPTY} when nothing was reported
     * @throws IllegalArgumentException if the list does not have one entry per worker (an engine bug)
     */
    public ConnectorOutput aggregate(List<ConnectorOutput> perRank) {
        Objects.requireNonNull(perRank, "perRank");
        // Once a step: summaries of lines held back in an interval that is over.
        log.flushDue();
        if (perRank.size() != numWorkers) {
            throw new IllegalArgumentException(
                    "expected one output per worker (" + numWorkers + "), got " + perRank.size());
        }
        Set<String> finishedSending = new HashSet<>();
        Set<String> finishedReceiving = new HashSet<>();
        Set<Integer> invalid = new HashSet<>();
        // A set keeps first-appearance order and drops the copies of one logical event that every
        // rank reports (a worker-side store visible to all TP ranks, say).
        Set<KvEvent> events = new LinkedHashSet<>();
        for (int rank = 0; rank < perRank.size(); rank++) {
            ConnectorOutput out = perRank.get(rank);
            if (out == null) {
                continue;
            }
            for (String id : out.finishedSending()) {
                sending.report(id, rank, finishedSending);
            }
            for (String id : out.finishedReceiving()) {
                receiving.report(id, rank, finishedReceiving);
            }
            invalid.addAll(out.invalidBlockIds());
            events.addAll(out.workerEvents());
        }
        Optional<ConnectorStats> stats = fold(perRank, ConnectorOutput::stats, ConnectorStats::aggregate, "stats");
        Optional<WorkerMetadata> metadata =
                fold(perRank, ConnectorOutput::workerMetadata, WorkerMetadata::aggregate, "worker metadata");
        ConnectorOutput result = new ConnectorOutput(
                finishedSending, finishedReceiving, invalid, stats, List.copyOf(events), metadata);
        return result.equals(ConnectorOutput.EMPTY) ? ConnectorOutput.EMPTY : result;
    }

    /**
     * Drops the partial counts of {@code requestId} in both directions; called by the engine thread
     * when the scheduler stops waiting for it some other way (aborted, freed, load given up). Later
     * reports for it are then late or unknown. Does nothing for an id without partial counts.
     */
    public void forget(String requestId) {
        sending.pending.remove(requestId);
        receiving.pending.remove(requestId);
    }

    /** The totals of dropped reports and contained failures so far; engine thread only. */
    public AggregatorCounters counters() {
        return new AggregatorCounters(duplicates, late, unknown, aggregateFailures);
    }

    /**
     * How many partial counters are held (an id waiting in both directions counts twice); engine
     * thread only. Zero once every awaited transfer finished or was forgotten, so tests use it to
     * check for leaks.
     */
    public int pendingCount() {
        return sending.pending.size() + receiving.pending.size();
    }

    /**
     * Left fold in rank order of one optional part, containing the plugin's {@code aggregate}: on a
     * throw (or a null result) the accumulator so far is kept and the failing rank's value skipped,
     * because losing one rank's telemetry is better than losing the step.
     */
    private <T> Optional<T> fold(List<ConnectorOutput> perRank, Function<ConnectorOutput, Optional<T>> part,
                                 BinaryOperator<T> combine, String what) {
        T acc = null;
        for (int rank = 0; rank < perRank.size(); rank++) {
            ConnectorOutput out = perRank.get(rank);
            T next = out == null ? null : part.apply(out).orElse(null);
            if (next == null) {
                continue;
            }
            if (acc == null) {
                acc = next;
                continue;
            }
            try {
                acc = Objects.requireNonNull(combine.apply(acc, next), "aggregate returned null");
            } catch (Throwable e) {
                ContainedFailures.rethrowIfFatal(e);
                aggregateFailures++;
                log.error("aggregate-failed", "Connector {} aggregate failed on rank {}; that rank's value is left "
                        + "out of this step", what, rank, e);
            }
        }
        return Optional.ofNullable(acc);
    }

    /** The counting state of one direction (sends or receives). */
    private final class Countdown {
        private final String direction;
        private final Predicate<String> awaited;
        /** Ranks that reported each awaited, not yet complete id. */
        final Map<String, BitSet> pending = new HashMap<>();
        /** The last completed ids, oldest first, bounded so that it cannot grow with the engine's lifetime. */
        private final LinkedHashSet<String> recentlyCompleted = new LinkedHashSet<>();

        Countdown(String direction, Predicate<String> awaited) {
            this.direction = direction;
            this.awaited = awaited;
        }

        /** Counts one report of {@code id} by {@code rank}; adds the id to {@code finished} when it completes. */
        void report(String id, int rank, Set<String> finished) {
            // Completed earlier in this very step (expected < workers): the scheduler has not seen the
            // completion yet, so it would still call the id awaited and a new countdown would start.
            if (finished.contains(id)) {
                dropLate(id, rank);
                return;
            }
            if (!awaited.test(id)) {
                // Any partial count is useless now that nobody waits; dropping it closes a leak when
                // the scheduler let go of the id without calling forget.
                pending.remove(id);
                if (recentlyCompleted.contains(id)) {
                    dropLate(id, rank);
                } else {
                    unknown++;
                    log.warn("finished-unknown", "Ignoring finished {} of request {} from rank {}: the scheduler is "
                            + "not waiting for it", direction, id, rank);
                }
                return;
            }
            BitSet ranks = pending.computeIfAbsent(id, k -> new BitSet(numWorkers));
            if (ranks.get(rank)) {
                duplicates++;
                log.warn("finished-duplicate", "Ignoring duplicate finished {} of request {} from rank {} ({} of {} "
                        + "ranks so far)", direction, id, rank, ranks.cardinality(), expected);
                return;
            }
            ranks.set(rank);
            if (ranks.cardinality() == expected) {
                pending.remove(id);
                finished.add(id);
                recentlyCompleted.addLast(id);
                if (recentlyCompleted.size() > RECENT_COMPLETED_CAPACITY) {
                    recentlyCompleted.removeFirst();
                }
            }
        }

        private void dropLate(String id, int rank) {
            late++;
            // With fewer expected ranks than workers, the remaining ranks report after completion
            // every time: routine, not worth a warning. With all ranks expected it means a rank
            // reported twice.
            if (expected < numWorkers) {
                log.debug("finished-late-routine", "Ignoring late finished {} of request {} from rank {}", direction,
                        id, rank);
            } else {
                log.warn("finished-late", "Ignoring late finished {} of request {} from rank {}: it already completed",
                        direction, id, rank);
            }
        }
    }
}
