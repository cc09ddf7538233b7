package io.kvconnect.core.sched;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerState;
import io.kvconnect.core.kv.BlockHasher;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.ConnectorBlockView;
import io.kvconnect.core.kv.KvCacheManager;
import io.kvconnect.core.kv.PrefixHit;
import io.kvconnect.core.logging.RateLimitedLog;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.LongSupplier;
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
 * <p>Connector hooks are called at the points the reference engine calls them (see
 * {@code vllm-kv-connector.md} §2), through a guard: a throwing hook fails the requests it was
 * about, with the exception as the reason, and the engine goes on.
 *
 * <p><b>Thread.</b> One thread (the engine thread) calls every method.
 */
public final class Scheduler implements SchedulerState, AwaitingTransfers {
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    private static final int[] NO_BLOCKS = new int[0];
    /**
     * After a failed external load a request may load again once more (a transient fault gets a
     * second chance, below the failed block), never a third time: a tier or peer that keeps
     * failing costs one extra attempt, then the request computes locally, and no request can
     * loop between a lookup and a failing load.
     */
    static final int LOAD_RETRIES_AFTER_FAILURE = 1;

    private final SchedulerConfig config;
    private final KvCacheManager kv;
    private final BlockPool pool;
    private final BlockHasher hasher;
    private final int blockSize;
    /** The connector, or {@code null} without one or once it was disabled. */
    private SchedulerConnector connector;
    private final ConnectorBlockView connectorView;
    private final HookGuard guard;
    private final String connectorName;
    /** Times hooks; shared with the workers when the engine made it. */
    private final HookTimer hookTimer;
    /** The timer this scheduler started itself (closed at shutdown), or {@code null}. */
    private final HookTimer ownTimer;
    private final SchedulerStats stats = new SchedulerStats();

    private final Map<String, Request> requests = new LinkedHashMap<>();
    private final List<Request> running = new ArrayList<>();
    private final List<Request> waiting = new ArrayList<>();
    /** Asynchronous loads reported finished, awaiting promotion. */
    private final Set<String> finishedReceiving = new HashSet<>();
    /** Asynchronous loads that failed (recompute policy); their computed count was truncated. */
    private final Set<String> failedReceiving = new HashSet<>();
    /** Requests whose asynchronous load is in flight (the workers will report them received). */
    private final Set<String> awaitingReceive = new HashSet<>();
    /** Finished requests whose blocks wait for the connector's finished send. */
    private final Set<String> awaitingSend = new HashSet<>();
    private final Set<String> finishedSinceLastSchedule = new LinkedHashSet<>();
    private final List<KvEvent> events = new ArrayList<>();
    private final List<ConnectorStats> connectorStats = new ArrayList<>();
    /** Updates not yet returned by {@link #update} or {@link #takeUpdates}. */
    private List<RequestUpdate> pendingUpdates = new ArrayList<>();
    /** See {@link #discardedOutputs()}. */
    private final Set<String> discardedOutputs = new HashSet<>();
    private final Set<String> discardedOutputsView = Collections.unmodifiableSet(discardedOutputs);
    /**
     * Finished requests whose blocks must outlive the step they were scheduled in: a hook failed
     * after the connector may already have planned a copy into them for that step.
     */
    private final Map<String, Long> fencedUntilStep = new HashMap<>();
    private final Comparator<Request> waitingOrder;
    private long step;
    private boolean disableRequested;
    private long arrivals;
    /** The step whose output {@link #update} applied last. */
    private long lastAppliedStep;
    /** Requests holding outputs back until their loads settle. */
    private final Set<Request> holding = new LinkedHashSet<>();
    /** Requests whose outputs of the step last passed to {@link #update} were held back. */
    private final Set<String> heldOutputs = new HashSet<>();
    private final Set<String> heldOutputsView = Collections.unmodifiableSet(heldOutputs);
    /** Held outputs released or dropped since the last {@link #takeHoldResolutions()}. */
    private List<HoldResolution> holdResolutions = new ArrayList<>();
    private final ConnectorWatchdog watchdog;
    /** Finished sends and receives reported so far: the watchdog's sign of progress. */
    private long transferReports;
    /** The last worker-side hook failure, for the watchdog's message. */
    private String lastWorkerHookFailure;

    /**
     * @param config limits and modes
     * @param pool the GPU block pool
     * @param connector the scheduler side of the connector, or {@code null} for none
     * @param connectorName the connector's name, for messages
     */
    public Scheduler(SchedulerConfig config, BlockPool pool, SchedulerConnector connector, String connectorName) {
        this(config, pool, connector, connectorName, System::nanoTime);
    }

    /**
     * A scheduler whose connector timeouts run on {@code nanoClock} (tests move time themselves).
     *
     * @param nanoClock monotonic nanoseconds
     */
    public Scheduler(SchedulerConfig config, BlockPool pool, SchedulerConnector connector, String connectorName,
                     LongSupplier nanoClock) {
        this(config, pool, connector, connectorName, nanoClock, null);
    }

    /**
     * A scheduler whose hooks are timed by {@code timer} (the engine shares one with its workers);
     * {@code null}: the scheduler starts and owns its own.
     */
    public Scheduler(SchedulerConfig config, BlockPool pool, SchedulerConnector connector, String connectorName,
                     LongSupplier nanoClock, HookTimer timer) {
        this.config = config;
        this.ownTimer = timer == null && connector != null
                ? new HookTimer(connectorName == null ? "none" : connectorName, config.hookTimeout().toNanos()) : null;
        this.hookTimer = timer == null ? ownTimer : timer;
        this.watchdog = new ConnectorWatchdog(config.connectorTimeout().toNanos(), nanoClock);
        this.pool = pool;
        this.kv = new KvCacheManager(pool);
        this.blockSize = pool.blockSize();
        this.hasher = new BlockHasher(blockSize);
        this.connector = connector;
        this.connectorView = new ConnectorBlockView(pool, config.connectorBlockReferences(), Thread.currentThread());
        this.connectorName = connectorName == null ? "none" : connectorName;
        this.guard = new HookGuard(connectorName == null ? "none" : connectorName, () -> {
            stats.hookFailures++;
            if (config.connectorErrors() == ConnectorErrorPolicy.DISABLE) {
                disableRequested = true;
            }
        }, hookTimer);
        this.waitingOrder = config.policy() == SchedulingPolicy.PRIORITY
                ? Comparator.comparingInt(Request::priority).thenComparingLong(Request::arrivalOrder)
                : null;
        if (connector != null) {
            guard.run(ConnectorHook.BIND_SCHEDULER_STATE, () -> connector.bindSchedulerState(this));
        }
    }

    /**
     * Hands the workers' handshake metadata to the connector, once, before the first step. A
     * throwing hook is contained like any other.
     */
    public void setHandshakeMetadata(Map<Integer, WorkerMetadata> byRank) {
        if (connector != null) {
            guard.run(ConnectorHook.SET_HANDSHAKE_METADATA, () -> connector.setHandshakeMetadata(byRank));
        }
    }

    /** The expected number of worker reports per finished transfer, from the connector. */
    public OptionalInt expectedFinishedCount() {
        if (connector == null) {
            return OptionalInt.empty();
        }
        OptionalInt n = guard.call(ConnectorHook.EXPECTED_FINISHED_COUNT, connector::expectedFinishedCount);
        return n == null ? OptionalInt.empty() : n;
    }

    // ------------------------------------------------------------------ requests in and out

    /**
     * Adds a request. A request that cannot fit the GPU pool even alone is refused at once: it
     * finishes with an error naming the numbers, and the connector never hears of it (neither
     * {@code onNewRequest} nor {@code requestFinished}). Otherwise the connector learns of it
     * through {@code onNewRequest}; if that throws, the request finishes at once with the error.
     * Either update is returned by the next {@link #update} or {@link #takeUpdates}.
     *
     * @throws IllegalArgumentException if the id is in use or the prompt is empty
     */
    public Request addRequest(String id, int[] prompt, int maxTokens, int priority, TransferParams params,
                              Optional<String> cacheSalt) {
        if (requests.containsKey(id)) {
            throw new IllegalArgumentException("request id '" + id + "' is already in use");
        }
        Request r = new Request(id, prompt, maxTokens, priority, arrivals++, params, cacheSalt, hasher);
        // A request that cannot fit even alone would wait (or preempt itself) forever: refuse it now.
        long needed = ((long) prompt.length + maxTokens + blockSize - 1) / blockSize;
        if (needed > pool.usableBlocks()) {
            r.setStatus(RequestStatus.FINISHED_ERROR);
            r.fail("request too large: " + prompt.length + " prompt tokens + " + maxTokens + " max tokens need "
                    + needed + " blocks of " + blockSize + " tokens; the GPU pool has " + pool.usableBlocks());
            stats.requestsFailed++;
            stats.requestsRefused++;
            pendingUpdates.add(new RequestUpdate.Finished(id, RequestStatus.FINISHED_ERROR, r.failureReason(),
                    TransferParams.empty(), new int[0]));
            return r;
        }
        requests.put(id, r);
        enqueueWaiting(r, false);
        if (connector != null && !guard.run(ConnectorHook.ON_NEW_REQUEST, () -> connector.onNewRequest(r))) {
            finish(r, RequestStatus.FINISHED_ERROR, guard.reason(ConnectorHook.ON_NEW_REQUEST));
        }
        return r;
    }

    /** Aborts a request; unknown or already finished ids are ignored (an abort may race a finish). */
    public void abort(String id) {
        Request r = requests.get(id);
        if (r == null || r.status().isFinished()) {
            return;
        }
        stats.requestsAborted++;
        finish(r, RequestStatus.FINISHED_ABORTED, "aborted");
    }

    // ------------------------------------------------------------------ schedule

    /** Schedules the next step. */
    public SchedulerOutput schedule() {
        step++;
        stats.steps++;
        checkWatchdog();
        int budget = config.maxBatchedTokens();
        List<ScheduledRequest> scheduled = new ArrayList<>(running.size() + 8);
        List<ScheduledWork> work = new ArrayList<>(running.size() + 8);
        Set<String> preempted = new LinkedHashSet<>();
        int total = 0;
        boolean waitsForLoads = false;

        // 1. Running requests first; they may preempt others to grow.
        for (int i = 0; i < running.size() && budget > 0; i++) {
            Request r = running.get(i);
            if (config.asyncScheduling() && r.outputsIncludingPlaceholders() >= r.maxTokens()) {
                continue;
            }
            int numNew = Math.min(r.numTokens() + r.numOutputPlaceholders() - r.scheduledThrough(), budget);
            if (r.scheduledThrough() < r.numPromptTokens()) {
                numNew = Math.min(numNew, config.longPrefillChunk());
            }
            if (numNew <= 0) {
                continue;
            }
            int target = r.scheduledThrough() + numNew;
            boolean selfPreempted = false;
            boolean waitForLoads = false;
            // A running request owns the blocks of every position scheduled so far, so a target in
            // its last block needs none, and the per-request lookup is skipped (most decode steps).
            int needed = ceilDiv(target, blockSize) <= ceilDiv(r.scheduledThrough(), blockSize) ? 0
                    : kv.blocksNeeded(r.requestId(), target);
            while (needed > pool.numFreeBlocks()) {
                Request victim = pickVictim();
                if (victim == r) {
                    // Before the last running request gives up its own blocks, take back blocks
                    // that sit idle in the waiting queue (finished loads waiting for room):
                    // otherwise they can starve it forever.
                    Request idle = reclaimableWaiting();
                    if (idle != null) {
                        reclaim(idle);
                        preempted.add(idle.requestId());
                        needed = kv.blocksNeeded(r.requestId(), target);
                        continue;
                    }
                    // Blocks tied up in waiting requests' loads in flight become reclaimable once
                    // the loads are reported: wait for that rather than give up r's blocks. Else
                    // r, readmitted with a load of its own, squeezes the loader once it runs, which
                    // preempts itself the same way: two requests can take turns forever.
                    if (loadInFlightInWaiting()) {
                        waitForLoads = true;
                        break;
                    }
                }
                if (victim.scheduledInStep == step) {
                    victim.scheduledInStep = -1;
                    int removed = unschedule(victim, scheduled, work);
                    budget += removed;
                    total -= removed;
                }
                int victimIndex = running.indexOf(victim);
                preempt(victim);
                preempted.add(victim.requestId());
                if (victim == r) {
                    selfPreempted = true;
                    break;
                }
                if (victimIndex < i) {
                    i--;
                }
            }
            if (selfPreempted) {
                i--;
                continue;
            }
            if (waitForLoads) {
                waitsForLoads = true;
                continue;
            }
            // Decoding requests need a new block only every blockSize steps: skip the allocation then.
            int[] newBlocks = NO_BLOCKS;
            if (needed > 0) {
                newBlocks = kv.allocate(r.requestId(), target, PrefixHit.NONE);
                if (newBlocks == null) {
                    throw new IllegalStateException("allocation failed after preemption freed enough blocks");
                }
            }
            scheduled.add(new ScheduledRequest(r, ScheduledRequest.Kind.CONTINUING, numNew, r.scheduledThrough(),
                    newBlocks.length == 0 ? BlockIds.empty() : BlockIds.of(newBlocks)));
            work.add(workFor(r, ScheduledRequest.Kind.CONTINUING, numNew, newBlocks, 0));
            r.scheduledInStep = step;
            budget -= numNew;
            total += numNew;
        }

        // 2. Waiting requests, only if nothing was preempted (admitting now would thrash) and no
        // running request waits for blocks (they would take them).
        List<Request> skipped = new ArrayList<>();
        List<String> startedAsyncLoads = new ArrayList<>();
        if (preempted.isEmpty() && !waitsForLoads) {
            while (!waiting.isEmpty() && budget > 0 && running.size() < config.maxRunningRequests()) {
                Request r = waiting.removeFirst();
                if (preempted.contains(r.requestId())) {
                    // Its blocks were taken back in this step; outputs of this step are stale for it.
                    skipped.add(r);
                    continue;
                }
                AdmitResult result = admit(r, budget, scheduled, work);
                switch (result) {
                    case SKIPPED -> skipped.add(r);
                    case ASYNC_LOAD -> {
                        skipped.add(r);
                        startedAsyncLoads.add(r.requestId());
                    }
                    case NO_SPACE -> {
                        waiting.addFirst(r);
                        // Nothing runs, so nothing will free blocks: take them back from waiting
                        // requests behind this one (finished loads waiting for room) and retry.
                        Request idle = running.isEmpty() ? reclaimableWaiting() : null;
                        if (idle != null && idle != r) {
                            reclaim(idle);
                            preempted.add(idle.requestId());
                        } else {
                            budget = 0;
                        }
                    }
                    case FAILED -> {
                        // finished with an error inside admit()
                    }
                    case SCHEDULED -> {
                        r.scheduledInStep = step;
                        budget -= work.getLast().numTokens();
                        total += work.getLast().numTokens();
                    }
                }
            }
        }
        // Skipped requests keep their place at the head of the queue, in order.
        for (int i = skipped.size() - 1; i >= 0; i--) {
            enqueueWaiting(skipped.get(i), true);
        }

        SchedulerOutput out = new SchedulerOutput(step, scheduled, work, preempted, finishedSinceLastSchedule, total);
        out.setStartedAsyncLoads(startedAsyncLoads);
        if (!startedAsyncLoads.isEmpty()) {
            Map<String, int[]> targets = new HashMap<>();
            for (String id : startedAsyncLoads) {
                Request r = requests.get(id);
                if (r != null && awaitingReceive.contains(id)) {
                    targets.put(id, loadTargets(r));
                }
            }
            out.setAsyncLoadBlocks(targets);
        }
        // Cleared before dropConnectorWork: requests it finishes must reach the next step's
        // finished ids (workers may report a delayed free only for ids they were given there).
        finishedSinceLastSchedule.clear();
        if (connector != null) {
            SchedulerOutput view = out;
            ConnectorMetadata meta = guard.call(ConnectorHook.BUILD_CONNECTOR_METADATA, () -> connector.buildConnectorMetadata(view));
            if (meta == null) {
                out = dropConnectorWork(out, startedAsyncLoads, guard.reason(ConnectorHook.BUILD_CONNECTOR_METADATA));
            } else {
                out.setConnectorMetadata(meta);
            }
        }
        advance(out);
        return out;
    }

    private enum AdmitResult { SCHEDULED, ASYNC_LOAD, SKIPPED, NO_SPACE, FAILED }

    private AdmitResult admit(Request r, int budget, List<ScheduledRequest> scheduled, List<ScheduledWork> work) {
        String id = r.requestId();
        if (r.status() == RequestStatus.WAITING_FOR_REMOTE_KV) {
            if (!finishedReceiving.remove(id)) {
                return AdmitResult.SKIPPED;
            }
            promoteAfterLoad(r);
        }
        boolean fresh = r.scheduledThrough() == 0 && !kv.owns(id);
        PrefixHit hit = fresh ? kv.findCachedPrefix(r) : PrefixHit.NONE;
        int external = 0;
        boolean async = false;
        int computed;
        if (fresh) {
            if (connector != null) {
                int localTokens = hit.tokens();
                MatchResult match = guard.call(ConnectorHook.GET_NUM_NEW_MATCHED_TOKENS,
                        () -> connector.getNumNewMatchedTokens(r, localTokens));
                if (match == null) {
                    finish(r, RequestStatus.FINISHED_ERROR, guard.reason(ConnectorHook.GET_NUM_NEW_MATCHED_TOKENS));
                    return AdmitResult.FAILED;
                }
                if (match instanceof MatchResult.AskLater) {
                    return AdmitResult.SKIPPED;
                }
                MatchResult.Tokens t = (MatchResult.Tokens) match;
                // The engine recomputes at least the last prompt token (logits), so it trims a
                // full-prompt hit itself instead of asking every connector to.
                external = loadAllowance(r, hit.tokens(), Math.clamp(t.count(), 0, r.numTokens() - 1 - hit.tokens()));
                async = t.async() && external > 0;
            }
            computed = hit.tokens() + external;
        } else {
            computed = r.scheduledThrough();
        }
        int numNew = async ? 0 : Math.min(Math.min(r.numTokens() - computed, budget), config.longPrefillChunk());
        if (!async && numNew <= 0) {
            throw new IllegalStateException("request " + id + " has nothing to compute: " + r);
        }
        int before = kv.numBlocks(id);
        int[] fresh0 = kv.allocate(id, computed + numNew, hit);
        if (fresh0 == null) {
            return AdmitResult.NO_SPACE;
        }
        if (fresh) {
            stats.prefixQueries += r.numTokens();
            stats.prefixHits += hit.tokens();
            r.setScheduledThrough(hit.tokens());
            r.confirmThrough(hit.tokens());
            if (connector != null) {
                stats.connectorQueries += r.numTokens() - hit.tokens();
                stats.connectorHits += external;
            }
        }
        if (external > 0) {
            grantLoad(id, hit.tokens(), external);
        }
        if (connector != null) {
            int ext = external;
            if (!guard.run(ConnectorHook.UPDATE_STATE_AFTER_ALLOC, () -> connector.updateStateAfterAlloc(r, kv.blocks(id), ext))) {
                if (async) {
                    // The connector may already have planned the load; keep the blocks until the
                    // workers report it, like an abort during a transfer.
                    awaitReceive(id);
                    r.setStatus(RequestStatus.WAITING_FOR_REMOTE_KV);
                } else {
                    // A synchronous load may still be in this step's metadata: keep the blocks
                    // until the step has run, so no other request gets them meanwhile.
                    fencedUntilStep.put(id, step);
                }
                finish(r, RequestStatus.FINISHED_ERROR, guard.reason(ConnectorHook.UPDATE_STATE_AFTER_ALLOC));
                return AdmitResult.FAILED;
            }
        }
        if (async) {
            stats.connectorAsyncLoads++;
            r.setScheduledThrough(computed);
            r.setStatus(RequestStatus.WAITING_FOR_REMOTE_KV);
            awaitReceive(id);
            return AdmitResult.ASYNC_LOAD;
        }
        if (external > 0) {
            // A synchronous load: a failure may be reported up to the window late.
            r.settleStep = Math.max(r.settleStep, step + config.loadFailureWindow());
        }
        ScheduledRequest.Kind kind = r.numPreemptions() > 0 ? ScheduledRequest.Kind.RESUMED
                : ScheduledRequest.Kind.NEW;
        r.setScheduledThrough(computed);
        r.setStatus(RequestStatus.RUNNING);
        running.add(r);
        int[] all = kv.blockIds(id);
        scheduled.add(new ScheduledRequest(r, kind, numNew, computed, BlockIds.of(all)));
        work.add(workFor(r, kind, numNew, all, external));
        return AdmitResult.SCHEDULED;
    }

    /**
     * An asynchronous load finished: confirm (or, after a failure, truncate) and cache; while a
     * failure may still be reported (the load failure window), the loaded positions are held back.
     */
    private void promoteAfterLoad(Request r) {
        String id = r.requestId();
        if (failedReceiving.remove(id)) {
            stats.requestsRecomputed++;
            if (r.scheduledThrough() == 0) {
                // Nothing usable was loaded: start over (a retry may hit the local cache, and the
                // load allowance keeps the connector from offering the failed blocks again).
                kv.free(id);
            }
        }
        if (r.settleStep > lastAppliedStep && r.scheduledThrough() > 0) {
            r.heldConfirm = Math.max(r.heldConfirm, r.scheduledThrough());
            holding.add(r);
        } else {
            r.confirmThrough(r.scheduledThrough());
            kv.cacheUpTo(r, r.numComputedTokens());
        }
        r.setStatus(r.numPreemptions() > 0 ? RequestStatus.PREEMPTED : RequestStatus.WAITING);
    }

    /**
     * The external tokens a request may load: all that was offered, unless an earlier load of it
     * failed; then at most {@value #LOAD_RETRIES_AFTER_FAILURE} more load, never reaching the block
     * that failed, and none after that.
     */
    private int loadAllowance(Request r, int localTokens, int offered) {
        if (offered == 0 || r.loadFailures == 0) {
            return offered;
        }
        int allowed = r.loadFailures > LOAD_RETRIES_AFTER_FAILURE ? 0
                : Math.clamp((long) r.noLoadFromBlock * blockSize - localTokens, 0, offered);
        if (allowed < offered) {
            stats.loadsRefusedAfterFailure++;
        }
        return allowed;
    }

    private ScheduledWork workFor(Request r, ScheduledRequest.Kind kind, int numNew, int[] blocks, int external) {
        int start = r.scheduledThrough();
        int known = Math.max(0, Math.min(numNew, r.numTokens() - start));
        // Under asynchronous scheduling the workers may know tokens the scheduler does not yet
        // (in flight, or held back until a load settles): then start is past the known tokens.
        int[] tokens = known == 0 ? NO_BLOCKS : r.tokenIds(start, start + known);
        int[] prefix = kind == ScheduledRequest.Kind.CONTINUING ? NO_BLOCKS : r.tokenIds(0, start);
        boolean samples = start + numNew >= r.numTokens();
        return new ScheduledWork(r.requestId(), kind, start, numNew, tokens, prefix, blocks, samples, external);
    }

    /**
     * Caches the request's confirmed full blocks; skips the manager when no block became full
     * since the last call (the request remembers how far it cached; truncation resets that).
     */
    private void cacheConfirmed(Request r) {
        int full = r.numComputedTokens() / blockSize;
        if (full > r.cachedBlocksHint) {
            kv.cacheUpTo(r, r.numComputedTokens());
            r.cachedBlocksHint = full;
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Moves every scheduled request's position past this step and adds placeholders. */
    private void advance(SchedulerOutput out) {
        List<ScheduledWork> work = out.work();
        for (int i = 0; i < work.size(); i++) {
            ScheduledWork w = work.get(i);
            Request r = (Request) out.scheduledRequests().get(i).request();
            r.setScheduledThrough(w.start() + w.numTokens());
            if (config.asyncScheduling() && w.samples()) {
                r.addPlaceholder();
            }
        }
    }

    private Request pickVictim() {
        if (config.policy() == SchedulingPolicy.FCFS) {
            return running.getLast();
        }
        Request victim = running.getFirst();
        for (Request r : running) {
            if (r.priority() > victim.priority()
                    || (r.priority() == victim.priority() && r.arrivalOrder() > victim.arrivalOrder())) {
                victim = r;
            }
        }
        return victim;
    }

    private int unschedule(Request victim, List<ScheduledRequest> scheduled, List<ScheduledWork> work) {
        for (int i = 0; i < work.size(); i++) {
            if (work.get(i).requestId().equals(victim.requestId())) {
                scheduled.remove(i);
                return work.remove(i).numTokens();
            }
        }
        return 0;
    }

    /** Preemption by recomputation: the blocks go back at once; the connector is not consulted. */
    private void preempt(Request r) {
        running.remove(r);
        dropHeld(r);
        kv.free(r.requestId());
        r.resetComputed(step);
        r.countPreemption();
        r.setStatus(RequestStatus.PREEMPTED);
        stats.preemptions++;
        enqueueWaiting(r, true);
    }

    /**
     * The last waiting request whose blocks can be taken back safely: it holds blocks, but it is
     * not running and no load into them is in flight (its load reported finished, or it was
     * promoted and found no room to compute). {@code null} if there is none.
     */
    private Request reclaimableWaiting() {
        for (int i = waiting.size() - 1; i >= 0; i--) {
            Request w = waiting.get(i);
            if (kv.owns(w.requestId()) && !awaitingReceive.contains(w.requestId())) {
                return w;
            }
        }
        return null;
    }

    /** Whether a waiting request holds blocks for a load still in flight. */
    private boolean loadInFlightInWaiting() {
        for (Request w : waiting) {
            if (awaitingReceive.contains(w.requestId()) && kv.owns(w.requestId())) {
                return true;
            }
        }
        return false;
    }

    /** Takes a waiting request's blocks back; like a preempted request it will be recomputed. */
    private void reclaim(Request w) {
        String id = w.requestId();
        finishedReceiving.remove(id);
        failedReceiving.remove(id);
        dropHeld(w);
        kv.free(id);
        w.resetComputed(step);
        w.countPreemption();
        w.setStatus(RequestStatus.PREEMPTED);
        stats.preemptions++;
    }

    private void enqueueWaiting(Request r, boolean front) {
        if (waitingOrder == null) {
            if (front) {
                waiting.addFirst(r);
            } else {
                waiting.add(r);
            }
            return;
        }
        int at = Collections.binarySearch(waiting, r, waitingOrder);
        waiting.add(at < 0 ? -at - 1 : at, r);
    }

    /**
     * {@code buildConnectorMetadata} threw, so no worker learns of this step's loads: every request
     * that relied on the connector in this step fails (its blocks can be freed at once, since no
     * copy was started), the rest of the step runs.
     */
    private SchedulerOutput dropConnectorWork(SchedulerOutput out, List<String> startedAsyncLoads, String reason) {
        List<ScheduledRequest> keptScheduled = new ArrayList<>();
        List<ScheduledWork> keptWork = new ArrayList<>();
        for (int i = 0; i < out.work().size(); i++) {
            ScheduledWork w = out.work().get(i);
            if (w.externalTokens() > 0) {
                finish(requests.get(w.requestId()), RequestStatus.FINISHED_ERROR, reason);
            } else {
                keptScheduled.add(out.scheduledRequests().get(i));
                keptWork.add(w);
            }
        }
        for (String id : startedAsyncLoads) {
            Request r = requests.get(id);
            stopAwaitingReceive(id);
            finish(r, RequestStatus.FINISHED_ERROR, reason);
        }
        int total = keptWork.stream().mapToInt(ScheduledWork::numTokens).sum();
        return new SchedulerOutput(out.step(), keptScheduled, keptWork, out.preemptedRequestIds(),
                out.finishedRequestIds(), total);
    }

    // ------------------------------------------------------------------ update

    /**
     * Applies the workers' output of {@code out}'s step: failed loads, sampled tokens, finished
     * transfers, connector events and stats.
     *
     * @return what happened to requests, in order
     */
    public List<RequestUpdate> update(SchedulerOutput out, ModelOutput result) {
        discardedOutputs.clear();
        heldOutputs.clear();
        ConnectorOutput co = result.connectorOutput();
        Set<String> truncated = co.invalidBlockIds().isEmpty() ? Set.of()
                : handleInvalidBlocks(co.invalidBlockIds(), out);
        for (Map.Entry<String, String> failed : result.failedRequests().entrySet()) {
            Request r = requests.get(failed.getKey());
            if (r != null && !r.status().isFinished()) {
                finish(r, RequestStatus.FINISHED_ERROR, failed.getValue());
            }
        }
        for (int i = 0; i < out.work().size(); i++) {
            ScheduledWork w = out.work().get(i);
            // The scheduled entry holds the request itself: no lookup by id on this per-token path.
            Request r = (Request) out.scheduledRequests().get(i).request();
            if (w.externalTokens() > 0) {
                endLoads(w.requestId()); // the step that loaded synchronously has run
            }
            if (r.status().isFinished() || r.discards(out.step()) || truncated.contains(w.requestId())) {
                discardedOutputs.add(w.requestId());
                continue;
            }
            Integer token = w.samples() ? result.sampledTokens().get(w.requestId()) : null;
            if (w.samples() && token == null) {
                // Every rank samples every request whose last known position it computed: a missing
                // token means the step's output for the request is lost. Skipping it (as the
                // reference engine does for outputs it legitimately lacks) would leave the request
                // waiting for a token nobody computes; fail it with the reason instead.
                finish(r, RequestStatus.FINISHED_ERROR, "the workers sampled no token for it in step "
                        + out.step());
                discardedOutputs.add(w.requestId());
                continue;
            }
            if (r.settleStep > out.step()) {
                // Computed from loaded KV that may still be reported failed: hold it back.
                r.heldConfirm = Math.max(r.heldConfirm, w.start() + w.numTokens());
                if (token != null) {
                    r.holdToken(token);
                }
                holding.add(r);
                heldOutputs.add(w.requestId());
                continue;
            }
            if (r.holdsOutputs() && !release(r)) {
                continue; // finished by a released token (a stop or the length cap)
            }
            r.confirmThrough(w.start() + w.numTokens());
            // Cached before the token is appended: the request may finish on it.
            cacheConfirmed(r);
            if (token != null) {
                appendToken(r, token);
            }
        }
        if (connector != null) {
            guard.run(ConnectorHook.UPDATE_CONNECTOR_OUTPUT, () -> connector.updateConnectorOutput(co));
        }
        for (String id : co.finishedReceiving()) {
            receiveFinished(id, out.step());
        }
        for (String id : co.finishedSending()) {
            sendFinished(id);
        }
        co.stats().ifPresent(connectorStats::add);
        events.addAll(co.workerEvents());
        if (connector != null) {
            List<KvEvent> own = guard.call(ConnectorHook.TAKE_EVENTS, connector::takeEvents);
            if (own != null) {
                events.addAll(own);
            }
            Optional<ConnectorStats> s = guard.call(ConnectorHook.TAKE_STATS, connector::takeStats);
            if (s != null) {
                s.ifPresent(connectorStats::add);
            }
        }
        releaseFenced(out.step());
        lastAppliedStep = out.step();
        releaseSettled();
        events.addAll(pool.takeEvents());
        return takeUpdates();
    }

    /**
     * Appends a sampled, confirmed token and finishes the request if it stops there: at its length
     * cap first, then at the end-of-sequence token (the reference engine's order).
     *
     * @return whether the request is still unfinished
     */
    private boolean appendToken(Request r, int token) {
        r.appendOutputToken(token);
        pendingUpdates.add(new RequestUpdate.TokenAdded(r.requestId(), token, r.numOutputTokens()));
        if (r.reachedMaxTokens()) {
            finish(r, RequestStatus.FINISHED_LENGTH_CAPPED, "");
            return false;
        }
        if (token == Request.EOS_TOKEN_ID) {
            finish(r, RequestStatus.FINISHED_STOPPED, "");
            return false;
        }
        return true;
    }

    /** Releases the held outputs of every request whose loads are settled by now. */
    private void releaseSettled() {
        if (holding.isEmpty()) {
            return;
        }
        for (Request r : List.copyOf(holding)) {
            if (r.settleStep <= lastAppliedStep) {
                release(r);
            }
        }
    }

    /**
     * The request's loads are settled: confirm what was held back, append the held tokens in order
     * (the request may finish on one; later ones are dropped) and cache its confirmed blocks.
     *
     * @return whether the request is still unfinished
     */
    private boolean release(Request r) {
        holding.remove(r);
        int confirm = r.heldConfirm;
        int[] tokens = new int[r.numHeldTokens()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.heldToken(i);
        }
        r.clearHeld();
        stats.heldOutputsReleased++;
        holdResolutions.add(new HoldResolution(r.requestId(), true));
        r.confirmThrough(confirm);
        cacheConfirmed(r);
        for (int token : tokens) {
            if (!appendToken(r, token)) {
                return false;
            }
        }
        return true;
    }

    /** Drops held outputs: they may stem from wrong KV, or nobody will read them. */
    private void dropHeld(Request r) {
        if (!holding.remove(r)) {
            return;
        }
        r.clearHeld();
        stats.heldOutputsDropped++;
        holdResolutions.add(new HoldResolution(r.requestId(), false));
    }

    /**
     * What became of a request's held outputs: released to the client, the prefix cache and
     * connectors ({@code used}), or dropped.
     *
     * @param requestId the request
     * @param used whether the held outputs were used
     */
    public record HoldResolution(String requestId, boolean used) {
    }

    /** Held outputs released or dropped since the last call, in order. */
    public List<HoldResolution> takeHoldResolutions() {
        if (holdResolutions.isEmpty()) {
            return List.of();
        }
        List<HoldResolution> taken = holdResolutions;
        holdResolutions = new ArrayList<>();
        return taken;
    }

    /**
     * Requests whose outputs of the step last passed to {@link #update} were held back, waiting
     * for their loads to settle: whether they are used is told later, by {@link
     * #takeHoldResolutions()}.
     */
    public Set<String> heldOutputs() {
        return heldOutputsView;
    }

    private void releaseFenced(long doneStep) {
        if (fencedUntilStep.isEmpty()) {
            return;
        }
        for (String id : List.copyOf(fencedUntilStep.keySet())) {
            if (fencedUntilStep.get(id) <= doneStep) {
                fencedUntilStep.remove(id);
                Request r = requests.get(id);
                if (r != null) {
                    maybeRelease(r);
                }
            }
        }
    }

    /**
     * Requests whose output of the step last passed to {@link #update} was discarded: finished
     * (aborted, failed) meanwhile, stale after a preemption or truncation, or reading blocks a
     * failed load reported in that very output. Whatever they read in that step reached nobody.
     */
    public Set<String> discardedOutputs() {
        return discardedOutputsView;
    }

    /** Updates from aborts and failures outside a step (call when no step output is pending). */
    public List<RequestUpdate> takeUpdates() {
        if (pendingUpdates.isEmpty()) {
            return List.of();
        }
        // Hand the list over instead of copying it: it is rebuilt every step anyway.
        List<RequestUpdate> taken = Collections.unmodifiableList(pendingUpdates);
        pendingUpdates = new ArrayList<>();
        return taken;
    }

    private void receiveFinished(String id, long reportStep) {
        if (!awaitingReceive.contains(id)) {
            RateLimitedLog.forLogger(LOG).warn("finished-receive-not-loading",
                    "Finished receive for request '{}' that is not loading; ignored", id);
            return;
        }
        stopAwaitingReceive(id);
        transferReports++;
        endLoads(id);
        Request r = requests.get(id);
        if (r.status() == RequestStatus.WAITING_FOR_REMOTE_KV) {
            finishedReceiving.add(id);
            // A failure of this load may still be reported up to the window late.
            r.settleStep = Math.max(r.settleStep, reportStep + config.loadFailureWindow());
        } else {
            // Finished (aborted or failed) while its load was in flight: the blocks can go now.
            failedReceiving.remove(id);
            maybeRelease(r);
        }
    }

    private void sendFinished(String id) {
        if (!awaitingSend.contains(id)) {
            RateLimitedLog.forLogger(LOG).warn("finished-send-not-held",
                    "Finished send for request '{}' whose blocks are not held for sending; ignored", id);
            return;
        }
        stopAwaitingSend(id);
        transferReports++;
        maybeRelease(requests.get(id));
    }

    private void awaitReceive(String id) {
        awaitingReceive.add(id);
        watchdog.receiveStarted(id);
    }

    private void stopAwaitingReceive(String id) {
        awaitingReceive.remove(id);
        watchdog.receiveEnded(id);
    }

    private void awaitSend(String id) {
        awaitingSend.add(id);
        watchdog.sendStarted(id);
    }

    private void stopAwaitingSend(String id) {
        awaitingSend.remove(id);
        watchdog.sendEnded(id);
    }

    /**
     * Invalid (failed-to-load) blocks. Every request whose range covers one is affected from its
     * first invalid block {@code i} on: everything it computed from there read wrong KV, so its
     * blocks {@code [i:]} are as bad as the failed one, and so is every block of another request
     * that shares one of them (through the prefix cache) from that block on — the rule is applied
     * until nothing new is found. Every such block leaves the prefix cache (connectors then see
     * the truncated computed counts, so they store none of it, and no later request can hit it);
     * policy {@code fail} finishes each affected request with an error, {@code recompute}
     * computes it again from its first bad block. Held outputs of affected requests are dropped.
     *
     * <p>A request's range is what the report can be about: the positions its load in {@code
     * out}'s step covered, its pending asynchronous load, its held or its confirmed positions. Not
     * its scheduled positions: under asynchronous scheduling the next step was scheduled before
     * this report, and may have given a failed block (freed by a loader that was preempted or
     * aborted meanwhile) to another request.
     *
     * <p>A report that comes after outputs computed from the failed block were already released
     * (later than the load failure window) is counted as late: the engine still evicts and
     * recomputes, but cannot recall tokens already emitted.
     *
     * @return requests whose output of this step must be discarded
     */
    private Set<String> handleInvalidBlocks(Set<Integer> invalid, SchedulerOutput out) {
        Map<String, Integer> loadedThrough = new HashMap<>();
        for (ScheduledWork w : out.work()) {
            if (w.externalTokens() > 0) {
                loadedThrough.put(w.requestId(), w.start());
            }
        }
        Set<Integer> bad = new HashSet<>();
        for (int id : invalid) {
            if (id > 0 && id < pool.numBlocks()) {
                bad.add(id);
            } else {
                RateLimitedLog.forLogger(LOG).error("invalid-block-out-of-range",
                        "Connector reported invalid block id {} outside [1, {}); ignored (a connector bug)", id,
                        pool.numBlocks());
            }
        }
        int reported = bad.size();
        // Each affected request with its first bad block index; spreads through shared blocks.
        Map<Request, Integer> firstBad = new LinkedHashMap<>();
        boolean grew = !bad.isEmpty();
        while (grew) {
            grew = false;
            for (Request r : requests.values()) {
                if (r.status().isFinished() || !kv.owns(r.requestId())) {
                    continue;
                }
                int n = kv.numBlocks(r.requestId());
                int limit = Math.min(n, ceilDiv(rangeOf(r, loadedThrough), blockSize));
                Integer known = firstBad.get(r);
                for (int i = 0; i < limit && (known == null || i < known); i++) {
                    if (bad.contains(kv.blockAt(r.requestId(), i))) {
                        firstBad.put(r, i);
                        for (int j = i; j < n; j++) {
                            bad.add(kv.blockAt(r.requestId(), j));
                        }
                        grew = true;
                        break;
                    }
                }
            }
        }
        Set<String> affected = new LinkedHashSet<>();
        boolean late = false;
        for (Map.Entry<Request, Integer> e : firstBad.entrySet()) {
            Request r = e.getKey();
            int first = e.getValue();
            affected.add(r.requestId());
            stats.loadFailures++;
            late |= r.numComputedTokens() > first * blockSize;
            r.recordLoadFailure(first);
            dropHeld(r);
            kv.uncacheFrom(r.requestId(), first);
            boolean loading = r.status() == RequestStatus.WAITING_FOR_REMOTE_KV;
            if (config.loadFailurePolicy() == LoadFailurePolicy.FAIL) {
                finish(r, RequestStatus.FINISHED_ERROR, "KV load failed for block "
                        + kv.blockAt(r.requestId(), first) + " (policy fail)");
            } else if (loading) {
                r.truncateTo(first * blockSize);
                failedReceiving.add(r.requestId());
            } else {
                stats.requestsRecomputed++;
                r.truncateTo(first * blockSize);
                r.resetPlaceholdersAfterTruncation(step);
            }
        }
        int evicted = kv.evict(bad.stream().mapToInt(Integer::intValue).toArray());
        if (late) {
            stats.lateLoadFailureReports++;
            RateLimitedLog.forLogger(LOG).error("load-failure-late",
                    "KV load failure reported later than the load failure window ({} step(s)): outputs computed "
                    + "from the failed blocks were already released; the engine evicted and {} what it still holds "
                    + "(a connector must report a failed load in the step's own output)",
                    config.loadFailureWindow(),
                    config.loadFailurePolicy() == LoadFailurePolicy.FAIL ? "failed" : "recomputes");
        }
        RateLimitedLog.forLogger(LOG).warn("load-failure",
                "KV load failure: {} invalid block(s) reported, {} block(s) computed from them, {} evicted from the "
                + "prefix cache, {} request(s) {}", reported, bad.size() - Math.min(reported, bad.size()), evicted,
                affected.size(), config.loadFailurePolicy() == LoadFailurePolicy.FAIL ? "failed" : "rescheduled");
        return affected;
    }

    /** The positions a load failure report can be about for {@code r} (see {@link #handleInvalidBlocks}). */
    private int rangeOf(Request r, Map<String, Integer> loadedThrough) {
        if (r.status() == RequestStatus.WAITING_FOR_REMOTE_KV) {
            return r.scheduledThrough();
        }
        return Math.max(Math.max(loadedThrough.getOrDefault(r.requestId(), 0), r.numComputedTokens()),
                r.heldConfirm);
    }

    // ------------------------------------------------------------------ finishing

    /**
     * Finishes a request: the connector's {@code requestFinished} decides whether the blocks wait
     * for a send; blocks of a request whose load is in flight wait for the load.
     */
    private void finish(Request r, RequestStatus status, String reason) {
        String id = r.requestId();
        RequestStatus before = r.status();
        running.remove(r);
        waiting.remove(r);
        finishedReceiving.remove(id);
        dropHeld(r);
        r.setStatus(status);
        if (status == RequestStatus.FINISHED_ERROR) {
            r.fail(reason);
            stats.requestsFailed++;
        }
        finishedSinceLastSchedule.add(id);
        TransferParams params = TransferParams.empty();
        if (connector != null) {
            FinishResult fr = guard.call(ConnectorHook.REQUEST_FINISHED, () -> connector.requestFinished(r, kv.blocks(id)));
            if (fr != null) {
                params = fr.params();
                if (fr.delayFree()) {
                    awaitSend(id);
                }
            }
        }
        if (before != RequestStatus.WAITING_FOR_REMOTE_KV) {
            stopAwaitingReceive(id);
        }
        // An error keeps its first reason; an abort says so; a natural stop has none.
        String why = r.failureReason() != null ? r.failureReason()
                : status == RequestStatus.FINISHED_ABORTED ? reason : "";
        pendingUpdates.add(new RequestUpdate.Finished(id, status, why, params,
                r.tokenIds(r.numPromptTokens(), r.numTokens())));
        maybeRelease(r);
    }

    private void maybeRelease(Request r) {
        String id = r.requestId();
        if (awaitingSend.contains(id) || awaitingReceive.contains(id) || fencedUntilStep.containsKey(id)) {
            return;
        }
        kv.free(id);
        requests.remove(id);
    }

    // ------------------------------------------------------------------ liveness, reset, shutdown

    /**
     * Whether the engine must keep stepping: requests to run, transfers to finish, or connector
     * work pending (the reference engine stops here and strands leases and final stores).
     */
    public boolean hasWork() {
        if (!onlyConnectorLeft()) {
            return true;
        }
        if (connector == null) {
            return false;
        }
        // A failure (of this call or an earlier hook) may have asked to disable the connector: a
        // step must still run to detach it and return what it holds.
        if (disableRequested) {
            return true;
        }
        Boolean pending = guard.call(ConnectorHook.HAS_PENDING_WORK, connector::hasPendingWork);
        if (disableRequested) {
            return true; // the call itself failed
        }
        if (pending == null || !pending) {
            watchdog.pendingEnded();
            return false;
        }
        return !watchdog.givenUpAt(progressFingerprint());
    }

    /** Changes whenever the connector makes progress: a transfer reported finished, a reference taken or returned. */
    private long progressFingerprint() {
        return connectorView.totalHeld() * 1_000_003L + transferReports;
    }

    /** Whether nothing is left but what the connector itself may still do. */
    private boolean onlyConnectorLeft() {
        return running.isEmpty() && waiting.isEmpty() && awaitingSend.isEmpty() && awaitingReceive.isEmpty()
                && finishedSinceLastSchedule.isEmpty() && fencedUntilStep.isEmpty();
    }

    /**
     * Gives up what the connector made no progress on within the connector timeout: loads it
     * never finished (the request fails or is recomputed under the load failure policy), sends it
     * never finished (the blocks are freed), and, when nothing else is left, its pending work and
     * the GPU block references it holds (taken back under {@code fail_requests}; the connector is
     * disabled under {@code disable}). A block taken back is freed, which ends the connector's
     * grants on it (see {@link io.kvconnect.core.kv.BlockGrants}): no copy the connector queued
     * earlier touches it once it belongs to another request. Logged once per event, naming
     * the last worker hook that failed, if any.
     */
    private void checkWatchdog() {
        if (connector == null) {
            return;
        }
        List<String> receives = watchdog.expiredReceives();
        List<String> sends = watchdog.expiredSends();
        if (!receives.isEmpty() || !sends.isEmpty()) {
            LOG.error("Connector '{}' did not finish {} load(s) and {} send(s) within {} ms (requests {}){}; the "
                    + "engine gives them up", connectorName, receives.size(), sends.size(),
                    watchdog.timeoutNanos() / 1_000_000, first(receives, sends), lastHookFailureNote());
            for (String id : receives) {
                giveUpReceive(id);
            }
            for (String id : sends) {
                giveUpSend(id);
            }
        }
        if (!onlyConnectorLeft()) {
            watchdog.notIdle();
            return;
        }
        if (!watchdog.idleStalled(progressFingerprint())) {
            return;
        }
        stats.connectorStalls++;
        long held = connectorView.totalHeld();
        if (config.connectorErrors() == ConnectorErrorPolicy.DISABLE) {
            LOG.error("Connector '{}' made no progress for {} ms while the engine had nothing else to do (it holds {} "
                    + "GPU block reference(s)){}; disabling it (connector_errors = disable)", connectorName,
                    watchdog.timeoutNanos() / 1_000_000, held, lastHookFailureNote());
            disableRequested = true;
            watchdog.gaveUp(progressFingerprint());
            return;
        }
        long reclaimed = connectorView.releaseAll();
        stats.reclaimedConnectorReferences += reclaimed;
        watchdog.gaveUp(progressFingerprint());
        LOG.error("Connector '{}' made no progress for {} ms while the engine had nothing else to do{}; the engine "
                + "took back its {} GPU block reference(s) and no longer steps for its pending work while idle, until "
                + "it makes progress again; requests are served as before", connectorName,
                watchdog.timeoutNanos() / 1_000_000, lastHookFailureNote(), reclaimed);
    }

    private static String first(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all.size() <= 5 ? all.toString() : all.subList(0, 5) + " and " + (all.size() - 5) + " more";
    }

    private String lastHookFailureNote() {
        return lastWorkerHookFailure == null ? "" : " after " + lastWorkerHookFailure;
    }

    /** The engine stops waiting for {@code id}'s load. */
    private void giveUpReceive(String id) {
        Request r = requests.get(id);
        stopAwaitingReceive(id);
        stats.transfersGivenUp++;
        endLoads(id);
        if (r.status().isFinished()) {
            maybeRelease(r);
            return;
        }
        finishedReceiving.remove(id);
        failedReceiving.remove(id);
        stats.loadFailures++;
        r.recordLoadFailure(0);
        if (config.loadFailurePolicy() == LoadFailurePolicy.FAIL) {
            finish(r, RequestStatus.FINISHED_ERROR, "connector '" + connectorName + "' did not finish loading its KV "
                    + "within " + watchdog.timeoutNanos() / 1_000_000 + " ms (policy fail)");
        } else {
            stats.requestsRecomputed++;
            dropHeld(r);
            kv.free(id);
            // Steps scheduled before this one are stale for it; this step may admit it afresh.
            r.resetComputed(step - 1);
            r.setStatus(r.numPreemptions() > 0 ? RequestStatus.PREEMPTED : RequestStatus.WAITING);
        }
    }

    /** The engine stops waiting for {@code id}'s send and frees its blocks. */
    private void giveUpSend(String id) {
        stopAwaitingSend(id);
        stats.transfersGivenUp++;
        maybeRelease(requests.get(id));
    }

    /** The blocks of an asynchronous load's external range: from the confirmed (hit) to the scheduled positions. */
    private int[] loadTargets(Request r) {
        int from = r.numComputedTokens() / blockSize;
        int to = ceilDiv(r.scheduledThrough(), blockSize);
        int[] ids = new int[Math.max(0, to - from)];
        for (int i = from; i < to; i++) {
            ids[i - from] = kv.blockAt(r.requestId(), i);
        }
        return ids;
    }

    /** The connector may copy into {@code id}'s external range: a load of it was granted. */
    private void grantLoad(String id, int fromToken, int tokens) {
        var grants = pool.grants();
        for (int i = fromToken / blockSize; i < ceilDiv(fromToken + tokens, blockSize); i++) {
            grants.grantLoad(kv.blockAt(id, i));
        }
    }

    /** Every load into {@code id}'s blocks ended (finished, failed or given up). */
    private void endLoads(String id) {
        var grants = pool.grants();
        for (int b : kv.blockIds(id)) {
            grants.endLoad(b);
        }
    }

    /** Whether requests wait or run (transfers aside). */
    public boolean hasRequests() {
        return !running.isEmpty() || !waiting.isEmpty();
    }

    /** Clears the GPU prefix cache; only possible when no block is held. */
    public boolean resetPrefixCache() {
        boolean ok = pool.resetPrefixCache();
        events.addAll(pool.takeEvents());
        return ok;
    }

    /** Shuts the scheduler side down; references the connector still holds are returned and counted. */
    public void shutdown() {
        if (connector != null) {
            guard.run(ConnectorHook.SHUTDOWN, connector::shutdown);
        }
        if (ownTimer != null) {
            ownTimer.close();
        }
        long leaked = connectorView.releaseAll();
        if (leaked > 0) {
            stats.leakedConnectorReferences += leaked;
            LOG.error("Connector still held {} GPU block reference(s) at shutdown; the engine returned them", leaked);
        }
    }

    /**
     * Counts worker-side hook calls that threw in a step, like scheduler-side ones: under {@code
     * connector_errors: disable} they also disable the connector. (The executor already failed the
     * requests whose loads they may have broken.)
     */
    public void workerHooksFailed(int calls, String firstFailure) {
        if (calls <= 0 || connector == null) {
            return;
        }
        lastWorkerHookFailure = firstFailure;
        stats.hookFailures += calls;
        if (config.connectorErrors() == ConnectorErrorPolicy.DISABLE) {
            disableRequested = true;
        }
    }

    /**
     * Whether a hook failed under {@link ConnectorErrorPolicy#DISABLE} and the connector is still
     * attached: the engine then shuts the worker sides down and calls {@link #disableConnector()}.
     */
    public boolean connectorDisableRequested() {
        return disableRequested && connector != null;
    }

    /**
     * Detaches the connector. Call only after every worker side was shut down (so no copy still
     * uses a block): its scheduler side is shut down, its GPU block references returned, blocks
     * held for its sends released, and requests waiting for its loads start over without it (a
     * request whose load finished keeps it).
     */
    public void disableConnector() {
        SchedulerConnector c = connector;
        if (c == null) {
            return;
        }
        connector = null;
        stats.connectorDisabled = true;
        guard.run(ConnectorHook.SHUTDOWN, c::shutdown);
        connectorView.releaseAll();
        for (String id : List.copyOf(awaitingSend)) {
            stopAwaitingSend(id);
            maybeRelease(requests.get(id));
        }
        for (String id : List.copyOf(awaitingReceive)) {
            stopAwaitingReceive(id);
            endLoads(id);
            failedReceiving.remove(id);
            Request r = requests.get(id);
            if (r.status().isFinished()) {
                maybeRelease(r);
            } else {
                // Its load will never be reported: compute it locally instead.
                kv.free(id);
                r.resetComputed(step);
                r.setStatus(r.numPreemptions() > 0 ? RequestStatus.PREEMPTED : RequestStatus.WAITING);
            }
        }
        LOG.error("Connector disabled after a hook failure (connector_errors = disable); the engine goes on "
                + "without it");
    }

    // ------------------------------------------------------------------ views for connectors and tests

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public boolean asyncScheduling() {
        return config.asyncScheduling();
    }

    @Override
    public List<RequestView> waitingRequests() {
        return Collections.unmodifiableList(waiting);
    }

    @Override
    public List<RequestView> runningRequests() {
        return Collections.unmodifiableList(running);
    }

    @Override
    public Optional<RequestView> findRequest(String requestId) {
        return Optional.ofNullable(requests.get(requestId));
    }

    @Override
    public GPUBlockPoolView gpuBlockPool() {
        return connectorView;
    }

    @Override
    public boolean awaitingSend(String requestId) {
        return awaitingSend.contains(requestId);
    }

    @Override
    public boolean awaitingReceive(String requestId) {
        return awaitingReceive.contains(requestId);
    }

    /** Counters for the report. */
    public SchedulerStats stats() {
        return stats;
    }

    /** KV events (GPU pool, connector, workers) since the last call. */
    public List<KvEvent> takeEvents() {
        List<KvEvent> taken = List.copyOf(events);
        events.clear();
        return taken;
    }

    /** Connector stats (scheduler and worker sides) since the last call. */
    public List<ConnectorStats> takeConnectorStats() {
        List<ConnectorStats> taken = List.copyOf(connectorStats);
        connectorStats.clear();
        return taken;
    }

    /** The KV-cache manager (for invariant checks). */
    public KvCacheManager kvCacheManager() {
        return kv;
    }

    /** The connector's view of the pool (for invariant checks). */
    public ConnectorBlockView connectorBlockView() {
        return connectorView;
    }

    /** Requests the engine still knows: unfinished ones and finished ones whose blocks are held. */
    public Map<String, Request> knownRequests() {
        return Collections.unmodifiableMap(requests);
    }

    /** Ids of finished requests whose blocks wait for a send. */
    public Set<String> heldForSending() {
        return Collections.unmodifiableSet(awaitingSend);
    }

    /** Whether a finished request's blocks are kept until its step has run (a hook failed mid-admission). */
    public boolean isFenced(String requestId) {
        return fencedUntilStep.containsKey(requestId);
    }

    /** Ids of requests whose asynchronous loads are in flight. */
    public Set<String> heldForReceiving() {
        return Collections.unmodifiableSet(awaitingReceive);
    }

    /** The configuration. */
    public SchedulerConfig config() {
        return config;
    }

    /**
     * A read-only snapshot of one request's scheduling state, for tests and diagnostics.
     *
     * @param requestId the request
     * @param status its status
     * @param numTokens known tokens (prompt and outputs)
     * @param scheduledThrough positions computed or in flight, what the scheduler plans with
     * @param confirmed positions whose KV is written and confirmed, what connectors see
     * @param placeholders decode positions in flight whose tokens are not known yet
     * @param heldConfirm positions computed from loaded KV and held back until the load settles
     * @param heldTokens sampled tokens held back likewise
     * @param settleStep the step whose output settles its loads, -1 if none
     * @param loadFailures external loads of it that failed
     * @param blocks its GPU blocks, in order
     */
    public record RequestState(String requestId, RequestStatus status, int numTokens, int scheduledThrough,
                               int confirmed, int placeholders, int heldConfirm, int heldTokens, long settleStep,
                               int loadFailures, List<Integer> blocks) {
    }

    /** The state of a request the scheduler knows, or empty. */
    public Optional<RequestState> requestState(String requestId) {
        Request r = requests.get(requestId);
        if (r == null) {
            return Optional.empty();
        }
        List<Integer> blocks = java.util.Arrays.stream(kv.blockIds(requestId)).boxed().toList();
        return Optional.of(new RequestState(requestId, r.status(), r.numTokens(), r.scheduledThrough(),
                r.numComputedTokens(), r.numOutputPlaceholders(), r.heldConfirm, r.numHeldTokens(), r.settleStep,
                r.loadFailures, blocks));
    }

    /** Ids of asynchronous loads reported finished, waiting for promotion. */
    public Set<String> finishedReceivingIds() {
        return Collections.unmodifiableSet(finishedReceiving);
    }

    /** Ids of asynchronous loads that failed (policy recompute), waiting for promotion. */
    public Set<String> failedReceivingIds() {
        return Collections.unmodifiableSet(failedReceiving);
    }
}
