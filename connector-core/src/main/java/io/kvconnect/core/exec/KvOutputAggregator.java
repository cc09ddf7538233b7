package io.kvconnect.core.exec;

import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.logging.RateLimitedLog;
import io.kvconnect.core.sched.ContainedThrowable;
import io.kvconnect.core.sched.FinishedTransfers;
import io.kvconnect.core.sched.WorkerReports;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds the {@link WorkerStepReport}s that the workers of one engine step returned into the
 * {@link WorkerReports} the scheduler applies (the executor-side half of vLLM's {@code
 * KVOutputAggregator}): the union of failed-load blocks, stats and worker metadata aggregated in
 * rank order, KV events each once. Each rank's finished sends and receives are passed on as
 * reported, by rank: counting them needs to know what the scheduler waits for, so the scheduler's
 * {@code TransferBook} does it. Nothing here asks the scheduler anything.
 *
 * <p>Plugin code ({@code aggregate} of stats and worker metadata) that throws is contained here
 * and never reaches the engine loop; each such failure is counted ({@link #aggregateFailures()})
 * and logged through a {@link RateLimitedLog}, since how often it happens is up to the plugin.
 *
 * <p>Owned and called by the engine thread only, once per step after all workers replied. Not
 * thread-safe, because nothing else ever touches it.
 */
public final class KvOutputAggregator {
    private static final Logger LOG = LoggerFactory.getLogger(KvOutputAggregator.class);

    private final RateLimitedLog log;
    private final int numWorkers;
    private long aggregateFailures;

    /**
     * Creates the aggregator of one engine; the engine thread builds it once, with the workers.
     *
     * @param numWorkers workers that report each step (every rank of the engine), at least 1
     * @throws IllegalArgumentException if {@code numWorkers < 1}
     */
    public KvOutputAggregator(int numWorkers) {
        this(numWorkers, RateLimitedLog.forLogger(LOG));
    }

    /**
     * An aggregator that writes its lines about contained failures to {@code log} (tests capture
     * them; the engine uses its logger's shared limiter).
     *
     * @see #KvOutputAggregator(int)
     */
    public KvOutputAggregator(int numWorkers, RateLimitedLog log) {
        this.log = Objects.requireNonNull(log, "log");
        if (numWorkers < 1) {
            throw new IllegalArgumentException("numWorkers must be at least 1, got " + numWorkers);
        }
        this.numWorkers = numWorkers;
    }

    /**
     * Folds one step's worker outputs; called by the engine thread once per step, before the
     * result goes to the scheduler.
     *
     * <p>Never throws because of what a connector reported or how its {@code aggregate} behaved:
     * such problems are logged and counted in {@link #aggregateFailures()}.
     *
     * @param perRank one entry per worker, indexed by rank; {@code null} where that worker has no
     *     connector, which contributes nothing
     * @return the folded reports, with one entry of finished transfers per rank
     * @throws IllegalArgumentException if the list does not have one entry per worker (an engine bug)
     */
    public WorkerReports aggregate(List<WorkerStepReport> perRank) {
        Objects.requireNonNull(perRank, "perRank");
        // Once a step: summaries of lines held back in an interval that is over.
        log.flushDue();
        if (perRank.size() != numWorkers) {
            throw new IllegalArgumentException(
                    "expected one output per worker (" + numWorkers + "), got " + perRank.size());
        }
        List<FinishedTransfers> finished = new ArrayList<>(numWorkers);
        Set<Integer> invalid = new HashSet<>();
        // A set keeps first-appearance order and drops the copies of one logical event that every
        // rank reports (a worker-side store visible to all TP ranks, say).
        Set<KvEvent> events = new LinkedHashSet<>();
        for (WorkerStepReport out : perRank) {
            if (out == null) {
                finished.add(FinishedTransfers.NONE);
                continue;
            }
            finished.add(
                    out.finishedSending().isEmpty() && out.finishedReceiving().isEmpty()
                            ? FinishedTransfers.NONE
                            : new FinishedTransfers(out.finishedSending(), out.finishedReceiving()));
            invalid.addAll(out.invalidBlockIds());
            events.addAll(out.events());
        }
        Optional<ConnectorStats> stats = fold(perRank, WorkerStepReport::stats, ConnectorStats::aggregate, "stats");
        Optional<WorkerMetadata> metadata =
                fold(perRank, WorkerStepReport::workerMetadata, WorkerMetadata::aggregate, "worker metadata");
        return new WorkerReports(finished, invalid, stats, List.copyOf(events), metadata);
    }

    /** Calls of a connector's stats or metadata {@code aggregate} that threw, since construction; engine thread only. */
    public long aggregateFailures() {
        return aggregateFailures;
    }

    /**
     * Left fold in rank order of one optional part, containing the plugin's {@code aggregate}: on a
     * throw (or a null result) the accumulator so far is kept and the failing rank's value skipped,
     * because losing one rank's telemetry is better than losing the step.
     */
    private <T> Optional<T> fold(
            List<WorkerStepReport> perRank,
            Function<WorkerStepReport, Optional<T>> part,
            BinaryOperator<T> combine,
            String what) {
        T acc = null;
        for (int rank = 0; rank < perRank.size(); rank++) {
            WorkerStepReport out = perRank.get(rank);
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
                log.error(
                        "aggregate-failed",
                        "Connector {} aggregate failed on rank {}; that rank's value is left " + "out of this step",
                        what,
                        rank,
                        ContainedThrowable.of(e));
            }
        }
        return Optional.ofNullable(acc);
    }
}
