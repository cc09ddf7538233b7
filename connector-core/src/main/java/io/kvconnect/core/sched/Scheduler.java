package io.kvconnect.core.sched;

import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.core.kv.BlockHasher;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.ConnectorBlockView;
import io.kvconnect.core.kv.KvCacheManager;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous-batching scheduler with a connector: token budget, running-request limit, chunked
 * prefill, preemption by recomputation, FCFS or priority order, aborts, asynchronous KV loads,
 * delayed frees, and recovery from failed loads.
 *
 * <p>Each step is {@link #schedule()} then, once the workers ran it, {@link #update}. With
 * asynchronous scheduling the engine calls {@code schedule()} for step N+1 before {@code update}
 * of step N; the scheduler keeps placeholders for the positions in flight and discards outputs of
 * steps that became stale for a request (preempted or truncated after they were scheduled).
 *
 * <p>A coordinator: each responsibility lives in a part of its own, which this class builds and
 * calls in order.
 * <ul>
 *   <li>{@link StepPlanner} decides what a step computes (the token budget, preemption through
 *       {@link Preemption}, admission through {@link Admission});</li>
 *   <li>{@link OutputApplier} applies the workers' output of a step;</li>
 *   <li>{@link TransferBook} holds every send, receive and fence that keeps a request's blocks;</li>
 *   <li>{@link ConnectorCalls} is the one place that calls the scheduler side of the connector;</li>
 *   <li>{@link LoadFailureRecovery} and {@link HeldOutputs} handle failed loads and the window in
 *       which one may still be reported;</li>
 *   <li>{@link ConnectorLiveness} keeps stepping for the connector's work and gives up what it
 *       makes no progress on;</li>
 *   <li>{@link RequestQueues} knows the requests and their queues and finishes them;</li>
 *   <li>{@link SchedulerView} is the read-only face connectors and invariant checks see;</li>
 *   <li>{@link Outbox} keeps what was decided until a call hands it over: {@link #update} in its
 *       {@link StepOutcome}, {@link #addRequest} and {@link #abort} as their result.</li>
 * </ul>
 * Nothing is left in this class for the engine to read back after a call.
 *
 * <p>Connector hooks are called at the points the reference engine calls them (the step is
 * described in {@code docs/engine.md}), through a guard: a throwing hook fails the requests it was
 * about, with the exception as the reason, and the engine goes on.
 *
 * <p><b>Thread.</b> One thread (the engine thread) calls every method.
 */
public final class Scheduler {
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    private final SchedulerConfig config;
    private final BlockPool pool;
    private final KvCacheManager kv;
    private final BlockHasher hasher;
    private final SchedulerStats stats = new SchedulerStats();
    private final StepClock clock = new StepClock();
    private final Outbox outbox = new Outbox();
    private final ConnectorCalls connector;
    private final ConnectorBlockView connectorView;
    private final TransferBook transfers;
    private final HeldOutputs held;
    private final RequestQueues queues;
    private final LoadFailureRecovery recovery;
    private final StepPlanner planner;
    private final OutputApplier applier;
    private final ConnectorLiveness liveness;
    private final SchedulerView view;
    private long arrivals;
    /** Requests that loaded synchronously in the step scheduled last. */
    private List<String> lastSyncLoads = List.of();

    /**
     * A scheduler for one worker, timing its connector's hooks itself.
     *
     * @param config limits and modes
     * @param pool the GPU block pool
     * @param connector the scheduler side of the connector, or {@code null} for none
     * @param connectorName the connector's name, for messages
     */
    public Scheduler(
            SchedulerConfig config,
            BlockPool pool,
            @Nullable SchedulerConnector connector,
            @Nullable String connectorName) {
        this(config, pool, connector, connectorName, 1, System::nanoTime, null);
    }

    /**
     * Builds the scheduler and binds the connector to its view; asks the connector how many
     * workers report each finished transfer.
     *
     * @param config limits and modes
     * @param pool the GPU block pool
     * @param connector the scheduler side of the connector, or {@code null} for none
     * @param connectorName the connector's name, for messages
     * @param workers the workers (tensor-parallel ranks) that report each step
     * @param nanoClock monotonic nanoseconds for the connector timeout (tests move time themselves)
     * @param timer times the hooks (the engine shares one with its workers); {@code null}: the
     *     scheduler starts and owns its own
     * @throws IllegalArgumentException if the connector expects finished reports from fewer than
     *     one or more than {@code workers} ranks (the connector is shut down first)
     */
    public Scheduler(
            SchedulerConfig config,
            BlockPool pool,
            @Nullable SchedulerConnector connector,
            @Nullable String connectorName,
            int workers,
            LongSupplier nanoClock,
            @Nullable HookTimer timer) {
        this.config = config;
        this.pool = pool;
        this.kv = new KvCacheManager(pool);
        this.hasher = new BlockHasher(pool.blockSize());
        this.connector = new ConnectorCalls(connector, connectorName, config, timer, stats);
        this.connectorView = new ConnectorBlockView(pool, config.connectorBlockReferences(), Thread.currentThread());
        ConnectorWatchdog watchdog =
                new ConnectorWatchdog(config.connectorTimeout().toNanos(), nanoClock);
        this.transfers = new TransferBook(kv, watchdog, stats);
        this.held = new HeldOutputs(stats, outbox);
        this.queues = new RequestQueues(config.policy(), kv, this.connector, transfers, held, outbox, stats);
        this.recovery = new LoadFailureRecovery(config, kv, queues, transfers, held, clock, stats);
        Admission admission =
                new Admission(config, kv, queues, this.connector, transfers, held, recovery, clock, stats);
        Preemption preemption = new Preemption(config.policy(), queues, transfers, held, kv, clock, stats);
        this.planner = new StepPlanner(config, kv, queues, admission, preemption, this.connector, transfers, clock);
        this.applier = new OutputApplier(config, kv, queues, this.connector, transfers, held, recovery, outbox, clock);
        this.liveness = new ConnectorLiveness(
                config, watchdog, this.connector, connectorView, kv, queues, transfers, recovery, clock, stats);
        this.view = new SchedulerView(config, kv, connectorView, queues, transfers, clock);
        OptionalInt expected = OptionalInt.empty();
        if (this.connector.attached()) {
            this.connector.bindSchedulerState(view);
            expected = this.connector.expectedFinishedCount();
        }
        try {
            transfers.expectReports(workers, expected);
        } catch (IllegalArgumentException e) {
            shutdown();
            throw e;
        }
    }

    /**
     * Hands the workers' handshake metadata to the connector, once, before the first step. A
     * throwing hook is contained like any other.
     */
    public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        if (connector.attached()) {
            connector.setHandshakeMetadata(byRank);
        }
    }

    // ------------------------------------------------------------------ requests in and out

    /**
     * Adds a request. A request that cannot fit the GPU pool even alone is refused at once: it
     * finishes with an error naming the numbers, and the connector never hears of it (neither
     * {@code onNewRequest} nor {@code requestFinished}). Otherwise the connector learns of it
     * through {@code onNewRequest}; if that throws, the request finishes at once with the error.
     *
     * @return the updates not handed over yet, in order: the refusal or failure if there was one,
     *     after any update decided while the last step was scheduled and not applied since
     * @throws IllegalArgumentException if the id is in use or the prompt is empty
     */
    public RequestUpdates addRequest(
            String id, int[] prompt, int maxTokens, int priority, TransferParams params, Optional<String> cacheSalt) {
        if (queues.contains(id)) {
            throw new IllegalArgumentException("request id '" + id + "' is already in use");
        }
        Request r = new Request(id, prompt, maxTokens, priority, arrivals++, params, cacheSalt, hasher, kv);
        // A request that cannot fit even alone would wait (or preempt itself) forever: refuse it now.
        int blockSize = pool.blockSize();
        long needed = Math.ceilDiv((long) prompt.length + maxTokens, blockSize);
        if (needed > pool.usableBlocks()) {
            r.setStatus(RequestStatus.FINISHED_ERROR);
            String reason = "request too large: " + prompt.length + " prompt tokens + " + maxTokens
                    + " max tokens need " + needed + " blocks of " + blockSize + " tokens; the GPU pool has "
                    + pool.usableBlocks();
            r.fail(reason);
            stats.requestsFailed++;
            stats.requestsRefused++;
            outbox.update(new RequestUpdate.Finished(
                    id, RequestStatus.FINISHED_ERROR, reason, TransferParams.empty(), new int[0]));
            return outbox.takeUpdates();
        }
        queues.arrive(r);
        if (connector.attached() && !connector.onNewRequest(r)) {
            queues.finish(r, RequestStatus.FINISHED_ERROR, connector.failureReason(ConnectorHook.ON_NEW_REQUEST));
        }
        return outbox.takeUpdates();
    }

    /**
     * Aborts a request; unknown or already finished ids are ignored (an abort may race a finish).
     *
     * @return the updates not handed over yet, in order (see {@link #addRequest})
     */
    public RequestUpdates abort(String id) {
        Request r = queues.get(id);
        if (r != null && !r.status().isFinished()) {
            stats.requestsAborted++;
            queues.finish(r, RequestStatus.FINISHED_ABORTED, "aborted");
        }
        return outbox.takeUpdates();
    }

    // ------------------------------------------------------------------ the step

    /**
     * Schedules the next step: gives up what the connector made no progress on, then plans the
     * step. Requests it finishes (a hook failed, a load was given up) are handed over by the next
     * {@link #update}, {@link #addRequest} or {@link #abort}.
     */
    public SchedulerOutput schedule() {
        clock.next();
        stats.steps++;
        endLastSyncLoads();
        liveness.check();
        SchedulerOutput out = planner.plan();
        out.setConnectorDisableRequested(connector.disableRequested());
        // Copied only when a step loads (most do not); the planner noted them as it admitted them.
        List<String> syncLoads = planner.syncLoads();
        lastSyncLoads = syncLoads.isEmpty() ? List.of() : List.copyOf(syncLoads);
        // Last: the workers see the grants as this step was scheduled, nothing decided later.
        out.setGrantChanges(pool.grants().takeChanges(out.step()));
        return out;
    }

    /**
     * Ends the grants of the synchronous loads of the step scheduled before this one: a worker
     * applies this step's grant changes when it begins it, after it ran that step, so the grants
     * last exactly the step that loads (even while, under asynchronous scheduling, that step is
     * still running when this one is scheduled).
     */
    private void endLastSyncLoads() {
        if (lastSyncLoads.isEmpty()) {
            return;
        }
        for (String id : lastSyncLoads) {
            transfers.endLoads(id);
        }
        lastSyncLoads = List.of();
    }

    /**
     * Applies the workers' result of {@code out}'s step: finished transfers counted by rank,
     * failed loads and hooks, sampled tokens, connector events and stats.
     *
     * <p>The outcome's {@link StepOutcome#updates() updates} are lent: they can be read until the
     * next call of this method, which ends them (see {@link RequestUpdates}).
     *
     * @return everything the engine needs of it (see {@link StepOutcome})
     */
    public StepOutcome update(SchedulerOutput out, StepResult result) {
        return applier.apply(out, result);
    }

    // ------------------------------------------------------------------ liveness, reset, shutdown

    /**
     * Whether the engine must keep stepping: requests to run, transfers to finish, or connector
     * work pending (the reference engine stops here and strands leases and final stores).
     */
    public boolean hasWork() {
        return liveness.hasWork();
    }

    /** Whether requests wait or run (transfers aside). */
    public boolean hasRequests() {
        return queues.hasRequests();
    }

    /** Clears the GPU prefix cache; only possible when no block is held. */
    public boolean resetPrefixCache() {
        boolean ok = pool.resetPrefixCache();
        outbox.events(pool);
        return ok;
    }

    /** Shuts the scheduler side down; references the connector still holds are returned and counted. */
    public void shutdown() {
        connector.shutdown();
        long leaked = connectorView.releaseAll();
        if (leaked > 0) {
            stats.leakedConnectorReferences += leaked;
            LOG.error("Connector still held {} GPU block reference(s) at shutdown; the engine returned them", leaked);
        }
    }

    /**
     * Detaches the connector, as a {@link StepOutcome#disableConnector()} or {@link
     * SchedulerOutput#connectorDisableRequested()} asked. Call only after every worker side was
     * shut down (so no copy still uses a block): its scheduler side is shut down, its GPU block
     * references returned, blocks held for its sends released, and requests waiting for its loads
     * start over without it (a request whose load finished keeps it).
     */
    public void disableConnector() {
        if (!connector.detach()) {
            return;
        }
        connectorView.releaseAll();
        liveness.connectorDetached();
        LOG.error("Connector disabled after a hook failure (connector_errors = disable); the engine goes on "
                + "without it");
    }

    // ------------------------------------------------------------------ views for the engine, reports and tests

    /** The read-only view connectors get and invariant checks use. */
    public SchedulerView view() {
        return view;
    }

    /** Counters for the report. */
    public SchedulerStats stats() {
        return stats;
    }

    /** The configuration. */
    public SchedulerConfig config() {
        return config;
    }
}
