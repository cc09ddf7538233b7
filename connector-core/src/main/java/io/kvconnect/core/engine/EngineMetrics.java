package io.kvconnect.core.engine;

import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.model.MismatchCounts;
import io.kvconnect.core.sched.RequestUpdate;
import io.kvconnect.core.sched.RequestUpdates;
import io.kvconnect.core.sched.ScheduledWork;
import io.kvconnect.core.sched.SchedulerOutput;
import io.kvconnect.core.sched.SchedulerStats;
import io.kvconnect.core.workload.Percentiles;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * What the engine measured: latencies in modelled time, scheduler step time in wall time, token
 * counts, outputs of finished requests, and KV verification results. Engine thread only.
 */
public final class EngineMetrics {
    private final Map<String, Timing> timings = new HashMap<>();
    private final Map<String, int[]> outputs = new LinkedHashMap<>();
    private final Map<String, String> failures = new LinkedHashMap<>();
    private final Map<RequestStatus, Long> finishedByStatus = new EnumMap<>(RequestStatus.class);
    private final Percentiles ttft = new Percentiles();
    private final Percentiles itl = new Percentiles();
    private final Percentiles schedulerStepMicros = new Percentiles();
    private static final String[] KINDS = {"stored", "removed", "cleared"};
    private static final int STORED = 0;
    private static final int REMOVED = 1;
    private static final int CLEARED = 2;
    /** Blocks in KV events, per medium, indexed by {@link #KINDS}. */
    private final Map<StorageMedium, long[]> eventBlocks = new HashMap<>();
    /** The GPU pool, when it records no events and its counters stand for them; otherwise null. */
    private @Nullable BlockPool unrecordedPool;
    /** Its counters as of the last outcome, indexed by {@link #KINDS}. */
    private final long[] unrecordedCounts = new long[KINDS.length];
    /** The stats aggregated so far; {@code null} until a connector reports some. */
    private @Nullable ConnectorStats connectorStats;

    private long statsFailures;
    private long promptTokens;
    private long outputTokens;
    private long steps;
    private long computedTokens;
    private long prefillTokens;
    private final CacheHitTimeline hitTimeline = new CacheHitTimeline();
    private MismatchCounts mismatches = MismatchCounts.NONE;
    private MismatchCounts discardedWrongReads = MismatchCounts.NONE;

    void arrived(String id, double time, int prompt) {
        timings.put(id, new Timing(time));
        promptTokens += prompt;
    }

    /**
     * Counts a step whose scheduling took {@code schedulerNanos} and that ended at modelled time
     * {@code now}. Called once per step: it allocates nothing (the timeline's rows are
     * preallocated, and the percentile collectors only grow their arrays now and then).
     */
    void step(long schedulerNanos, SchedulerOutput out, double now, SchedulerStats stats) {
        steps++;
        computedTokens += out.totalScheduledTokens();
        if (out.hasWork()) {
            schedulerStepMicros.add(schedulerNanos / 1_000.0);
            List<ScheduledWork> work = out.work();
            for (int i = 0, n = work.size(); i < n; i++) {
                ScheduledWork w = work.get(i);
                if (!w.decodes()) {
                    prefillTokens += w.numTokens();
                }
            }
            hitTimeline.add(
                    now, stats.prefixQueries(), stats.prefixHits(), stats.connectorQueries(), stats.connectorHits());
        }
    }

    /**
     * Counts a step outcome's KV events in blocks, by medium and kind, without building a key per
     * event; and, for a pool that records none, takes its counters as they stand now, when its
     * events would have been handed over with this outcome.
     */
    void events(List<KvEvent> events) {
        if (unrecordedPool != null) {
            unrecordedCounts[STORED] = unrecordedPool.storedHashes();
            unrecordedCounts[REMOVED] = unrecordedPool.removedHashes();
            unrecordedCounts[CLEARED] = unrecordedPool.clears();
        }
        for (int i = 0, n = events.size(); i < n; i++) {
            KvEvent e = events.get(i);
            long[] counts = eventBlocks.computeIfAbsent(e.medium(), m -> new long[KINDS.length]);
            switch (e) {
                case KvEvent.BlockStored st ->
                    counts[STORED] += st.blockHashes().size();
                case KvEvent.BlockRemoved r ->
                    counts[REMOVED] += r.blockHashes().size();
                case KvEvent.AllBlocksCleared c -> counts[CLEARED]++;
            }
        }
    }

    /**
     * Counts the GPU pool's events from its own counters, read at each {@link #events}: {@code pool}
     * records none (the engine has no KV event publisher), so they never reach that list.
     */
    void countEventsOf(BlockPool pool) {
        unrecordedPool = pool;
    }

    void connectorStats(List<ConnectorStats> stats) {
        for (ConnectorStats s : stats) {
            if (connectorStats == null) {
                connectorStats = s;
                continue;
            }
            try {
                connectorStats = connectorStats.aggregate(s);
            } catch (Throwable e) {
                // Plugin code: a broken aggregate() loses stats, never the run.
                io.kvconnect.core.exec.ContainedFailures.rethrowIfFatal(e);
                statsFailures++;
            }
        }
    }

    /**
     * KV events by medium and kind ("gpu stored", "cpu removed", ...), counted in blocks; a kind
     * with none is absent. A new map on each call.
     */
    public Map<String, Long> eventCounts() {
        Map<StorageMedium, long[]> all = new HashMap<>();
        eventBlocks.forEach((m, c) -> all.put(m, c.clone()));
        if (unrecordedPool != null) {
            long[] gpu = all.computeIfAbsent(StorageMedium.GPU, m -> new long[KINDS.length]);
            for (int k = 0; k < KINDS.length; k++) {
                gpu[k] += unrecordedCounts[k];
            }
        }
        Map<String, Long> byName = new TreeMap<>();
        all.forEach((m, c) -> {
            for (int k = 0; k < KINDS.length; k++) {
                if (c[k] > 0) {
                    byName.put(m.name().toLowerCase(Locale.ROOT) + " " + KINDS[k], c[k]);
                }
            }
        });
        return byName;
    }

    /** The connector's stats over the whole run (scheduler and worker sides), if it reported any. */
    public Optional<ConnectorStats> connectorStats() {
        return Optional.ofNullable(connectorStats);
    }

    /** Connector stats that could not be aggregated. */
    public long statsFailures() {
        return statsFailures;
    }

    void countMismatches(MismatchCounts n) {
        mismatches = mismatches.plus(n);
    }

    void countDiscardedWrongReads(MismatchCounts n) {
        discardedWrongReads = discardedWrongReads.plus(n);
    }

    /** Counts a step's updates: tokens for the latency histograms, finishes by status. */
    void updates(RequestUpdates u, double now) {
        // By index: no update object per sampled token.
        for (int i = 0; i < u.size(); i++) {
            if (u.isFinished(i)) {
                finished(u.finished(i));
            } else {
                tokenAdded(u.requestId(i), now);
            }
        }
    }

    private void tokenAdded(String requestId, double now) {
        outputTokens++;
        Timing timing = timings.get(requestId);
        if (timing != null) {
            if (timing.last < 0) {
                ttft.add(now - timing.arrival);
            } else {
                itl.add(now - timing.last);
            }
            timing.last = now;
        }
    }

    private void finished(RequestUpdate.Finished f) {
        timings.remove(f.requestId());
        outputs.put(f.requestId(), f.outputTokens());
        finishedByStatus.merge(f.status(), 1L, Long::sum);
        if (!f.reason().isEmpty() && f.status() != RequestStatus.FINISHED_LENGTH_CAPPED) {
            failures.put(f.requestId(), f.reason());
        }
    }

    /** Output tokens of every finished request, by id, in finishing order. */
    public Map<String, int[]> outputs() {
        return outputs;
    }

    /** Why requests failed or were aborted, by id. */
    public Map<String, String> failures() {
        return failures;
    }

    /** Finished requests by status. */
    public Map<RequestStatus, Long> finishedByStatus() {
        return finishedByStatus;
    }

    /** Time to first token, modelled seconds. */
    public Percentiles timeToFirstToken() {
        return ttft;
    }

    /** Inter-token latency, modelled seconds. */
    public Percentiles interTokenLatency() {
        return itl;
    }

    /** Wall time of the scheduler's part of a step (schedule + update), microseconds. */
    public Percentiles schedulerStepMicros() {
        return schedulerStepMicros;
    }

    /** Prompt tokens of all requests. */
    public long promptTokens() {
        return promptTokens;
    }

    /** Output tokens sampled. */
    public long outputTokens() {
        return outputTokens;
    }

    /** Steps run. */
    public long steps() {
        return steps;
    }

    /** Tokens computed by the model (prefill and decode). */
    public long computedTokens() {
        return computedTokens;
    }

    /**
     * Of {@link #computedTokens()}, those computed in prefill: every scheduled position but the
     * single sampled position of a decode ({@link ScheduledWork#decodes()}). Prompt tokens found in
     * the GPU prefix cache or loaded by a connector are not computed, so they are not here.
     */
    public long prefillTokens() {
        return prefillTokens;
    }

    /** The cache counters over modelled time, sampled after each step with work. */
    public CacheHitTimeline hitTimeline() {
        return hitTimeline;
    }

    /**
     * KV verification mismatches: wrong KV read in a step whose output the engine used. Zero in a
     * correct run.
     */
    public long mismatches() {
        return mismatches.total();
    }

    /** {@link #mismatches()} by kind: wrong loads, contaminated KV, overwritten KV. */
    public MismatchCounts mismatchesByKind() {
        return mismatches;
    }

    /**
     * Wrong KV read in a step whose output the engine discarded: typically the step that read the
     * blocks of a synchronous load before the load reported them failed. Harmless by construction.
     */
    public long discardedWrongReads() {
        return discardedWrongReads.total();
    }

    private static final class Timing {
        final double arrival;
        double last = -1;

        Timing(double arrival) {
            this.arrival = arrival;
        }
    }
}
