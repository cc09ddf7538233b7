package io.kvconnect.core.sched;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.KvCacheManager;
import io.kvconnect.core.logging.RateLimitedLog;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a failed external load does to the requests that read it: the eviction rule for reported
 * invalid blocks ({@link #invalidBlocksReported}), loads a failed worker hook may have broken
 * ({@link #loadsBrokenByWorkerHooks}), a load the engine gave up waiting for ({@link
 * #loadGivenUp}), and the bound on loading again after a failure ({@link #loadAllowance}). Under
 * {@link LoadFailurePolicy#FAIL} an affected request finishes with an error; under {@link
 * LoadFailurePolicy#RECOMPUTE} it computes again from its first bad block. Either way its held
 * outputs (see {@link HeldOutputs}) are dropped.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class LoadFailureRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(LoadFailureRecovery.class);

    /**
     * After a failed external load a request may load again once more (a transient fault gets a
     * second chance, below the failed block), never a third time: a tier or peer that keeps
     * failing costs one extra attempt, then the request computes locally, and no request can
     * loop between a lookup and a failing load.
     */
    static final int LOAD_RETRIES_AFTER_FAILURE = 1;

    private final SchedulerConfig config;
    private final BlockPool pool;
    private final KvCacheManager kv;
    private final int blockSize;
    private final RequestQueues queues;
    private final TransferBook transfers;
    private final HeldOutputs held;
    private final StepClock clock;
    private final SchedulerStats stats;

    LoadFailureRecovery(
            SchedulerConfig config,
            KvCacheManager kv,
            RequestQueues queues,
            TransferBook transfers,
            HeldOutputs held,
            StepClock clock,
            SchedulerStats stats) {
        this.config = config;
        this.kv = kv;
        this.pool = kv.pool();
        this.blockSize = pool.blockSize();
        this.queues = queues;
        this.transfers = transfers;
        this.held = held;
        this.clock = clock;
        this.stats = stats;
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
     * <p>Only a block whose KV a load wrote, and a load the report can still be about, is a
     * failure: a target of the external load of an unfinished request that still owns the block
     * and has not computed it again since (a report within the load failure window, or a late one
     * while the loader still holds the block). The rest are ignored, counted and logged: once a
     * loader finished (an abort, a failure, a load given up after the connector timeout) or freed
     * its blocks (preempted, recomputing without the connector), they may be another request's,
     * whose KV there is its own and which no report of that load may blame; nor may a report name
     * blocks a request computed itself.
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
     * @param invalid the reported block ids; ids outside the pool are logged and ignored, and so
     *     are ids no load a report can still be about wrote
     * @param out the step whose output carried the report
     * @return requests whose output of this step must be discarded
     */
    Set<String> invalidBlocksReported(Set<Integer> invalid, SchedulerOutput out) {
        Set<Integer> inPool = new HashSet<>();
        for (int id : invalid) {
            if (id > 0 && id < pool.numBlocks()) {
                inPool.add(id);
            } else {
                RateLimitedLog.forLogger(LOG)
                        .error(
                                "invalid-block-out-of-range",
                                "Connector reported invalid block id {} outside [1, {}); ignored (a connector bug)",
                                id,
                                pool.numBlocks());
            }
        }
        Set<Integer> bad = loadedBlocks(inPool, out.step());
        if (bad.size() < inPool.size()) {
            ignored(inPool, bad);
        }
        if (bad.isEmpty()) {
            return Set.of();
        }
        Map<String, Integer> loadedThrough = new HashMap<>();
        for (ScheduledWork w : out.work()) {
            if (w.externalTokens() > 0) {
                loadedThrough.put(w.requestId(), w.start());
            }
        }
        int reported = bad.size();
        // Each affected request with its first bad block index; spreads through shared blocks.
        Map<Request, Integer> firstBad = new LinkedHashMap<>();
        boolean grew = !bad.isEmpty();
        while (grew) {
            grew = false;
            for (Request r : queues.known()) {
                if (r.status().isFinished() || !kv.owns(r.requestId())) {
                    continue;
                }
                int n = kv.numBlocks(r.requestId());
                int limit = Math.min(n, Math.ceilDiv(rangeOf(r, loadedThrough), blockSize));
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
            held.drop(r);
            kv.uncacheFrom(r.requestId(), first);
            boolean loading = r.status() == RequestStatus.WAITING_FOR_REMOTE_KV;
            if (config.loadFailurePolicy() == LoadFailurePolicy.FAIL) {
                queues.finish(
                        r,
                        RequestStatus.FINISHED_ERROR,
                        "KV load failed for block " + kv.blockAt(r.requestId(), first) + " (policy fail)");
            } else if (loading) {
                r.truncateTo(first * blockSize);
                transfers.loadFailed(r.requestId());
            } else {
                stats.requestsRecomputed++;
                r.truncateTo(first * blockSize);
                r.resetPlaceholdersAfterTruncation(clock.current());
            }
        }
        int evicted = kv.evict(bad.stream().mapToInt(Integer::intValue).toArray());
        if (late) {
            stats.lateLoadFailureReports++;
            RateLimitedLog.forLogger(LOG)
                    .error(
                            "load-failure-late",
                            "KV load failure reported later than the load failure window ({} step(s)): outputs computed "
                                    + "from the failed blocks were already released; the engine evicted and {} what it still holds "
                                    + "(a connector must report a failed load in the step's own output)",
                            config.loadFailureWindow(),
                            config.loadFailurePolicy() == LoadFailurePolicy.FAIL ? "failed" : "recomputes");
        }
        RateLimitedLog.forLogger(LOG)
                .warn(
                        "load-failure",
                        "KV load failure: {} invalid block(s) reported, {} block(s) computed from them, {} evicted from the "
                                + "prefix cache, {} request(s) {}",
                        reported,
                        bad.size() - Math.min(reported, bad.size()),
                        evicted,
                        affected.size(),
                        config.loadFailurePolicy() == LoadFailurePolicy.FAIL ? "failed" : "rescheduled");
        return affected;
    }

    /**
     * The blocks of {@code reported} whose KV came from a load that a report of {@code reportStep}
     * can be about: targets of the last external load of an unfinished request that still owns
     * them and has not computed them again since, granted no later than that step (under
     * asynchronous scheduling the next step, which may have granted a load into blocks freed
     * meanwhile, was scheduled before the report came). Scans the requests only when a report
     * comes, never per step.
     */
    private Set<Integer> loadedBlocks(Set<Integer> reported, long reportStep) {
        Set<Integer> loaded = new HashSet<>();
        for (Request r : queues.known()) {
            KvCacheManager.Owned own = r.loadedInto;
            // Not live: the loader freed those blocks since, and they may be another request's now.
            if (own == null || !own.isLive() || r.status().isFinished() || r.loadedInStep > reportStep) {
                continue;
            }
            int[] ids = own.blockIdArray();
            int to = Math.min(r.loadedToBlock, own.numBlocks());
            for (int i = r.loadedFromBlock; i < to; i++) {
                if (reported.contains(ids[i])) {
                    loaded.add(ids[i]);
                }
            }
        }
        return loaded;
    }

    /**
     * Counts and logs the blocks of {@code reported} not in {@code loaded}: no request is blamed
     * for them. Those that no request holds but the prefix cache still offers are dropped from it:
     * the report may be a true one that came too late (the loader finished), and then a later
     * request must not hit wrong KV there; if it was not, the cost is a prefix hit, not an output.
     */
    private void ignored(Set<Integer> reported, Set<Integer> loaded) {
        List<Integer> ignored = new ArrayList<>();
        for (int id : reported) {
            if (!loaded.contains(id)) {
                ignored.add(id);
                if (pool.refCount(id) == 0) {
                    stats.ignoredInvalidBlocksUncached += pool.evict(id);
                }
            }
        }
        stats.ignoredInvalidBlocks += ignored.size();
        Collections.sort(ignored);
        RateLimitedLog.forLogger(LOG)
                .warn(
                        "invalid-block-no-load",
                        "Connector reported {} invalid block(s) {} that no current load wrote (the loading request "
                                + "finished, or freed or recomputed them, and they may be another request's now; or no load "
                                + "targeted them); ignored, no request blamed",
                        ignored.size(),
                        ignored.size() <= 8 ? ignored : ignored.subList(0, 8) + "...");
    }

    /** The positions a load failure report can be about for {@code r} (see {@link #invalidBlocksReported}). */
    private int rangeOf(Request r, Map<String, Integer> loadedThrough) {
        if (r.status() == RequestStatus.WAITING_FOR_REMOTE_KV) {
            return r.scheduledThrough();
        }
        return Math.max(Math.max(loadedThrough.getOrDefault(r.requestId(), 0), r.numComputedTokens()), r.heldConfirm);
    }

    /**
     * A load into {@code r}'s positions {@code [fromToken, fromToken + tokens)} was granted: from
     * now on a failure report may name its blocks, until {@code r} finishes, frees them or
     * computes them again (see {@link #invalidBlocksReported}). Call after {@code r}'s blocks
     * were allocated.
     */
    void loadGranted(Request r, int fromToken, int tokens) {
        r.loadGranted(
                Objects.requireNonNull(r.ownedBlocks(), "a load is granted into allocated blocks"),
                fromToken / blockSize,
                Math.ceilDiv(fromToken + tokens, blockSize),
                clock.current());
    }

    /**
     * A worker-side hook whose failure may have left this step's loads incomplete (see {@link
     * ConnectorHook#affectsLoads()}) fails every request that loaded in the step, with the first
     * such failure as the reason: its KV cannot be trusted, and computing on it would produce
     * wrong tokens silently. That is every synchronous load of the step, every asynchronous load
     * the step's reports completed, and every asynchronous load whose orders were in the step's
     * metadata (a rank that lost them never loads its part). Requests already finished are left
     * alone.
     *
     * @param completedReceives the asynchronous loads the step's reports completed
     */
    void loadsBrokenByWorkerHooks(SchedulerOutput out, Set<String> completedReceives, List<HookFailure> failures) {
        HookFailure loadFailure = null;
        for (HookFailure f : failures) {
            if (f.hook().affectsLoads()) {
                loadFailure = f;
                break;
            }
        }
        if (loadFailure == null) {
            return;
        }
        Set<String> failed = new LinkedHashSet<>();
        for (ScheduledWork w : out.work()) {
            if (w.externalTokens() > 0) {
                failed.add(w.requestId());
            }
        }
        failed.addAll(completedReceives);
        failed.addAll(out.startedAsyncLoads());
        String reason = loadFailure.toString();
        for (String id : failed) {
            Request r = queues.get(id);
            if (r != null && !r.status().isFinished()) {
                queues.finish(r, RequestStatus.FINISHED_ERROR, reason);
            }
        }
    }

    /**
     * The engine gave up waiting for the asynchronous load of the unfinished request {@code r}
     * (the connector timeout passed; the wait itself already ended): a failed load of all of it.
     * Under {@code fail} it finishes with {@code failReason}; under {@code recompute} it starts
     * over without the connector's blocks (it may not load them again).
     */
    void loadGivenUp(Request r, String failReason) {
        String id = r.requestId();
        transfers.forgetLoadOutcome(id);
        stats.loadFailures++;
        r.recordLoadFailure(0);
        if (config.loadFailurePolicy() == LoadFailurePolicy.FAIL) {
            queues.finish(r, RequestStatus.FINISHED_ERROR, failReason);
        } else {
            stats.requestsRecomputed++;
            held.drop(r);
            kv.free(id);
            // Steps scheduled before this one are stale for it; this step may admit it afresh.
            r.resetComputed(clock.current() - 1);
            r.setStatus(r.numPreemptions() > 0 ? RequestStatus.PREEMPTED : RequestStatus.WAITING);
        }
    }

    /**
     * The external tokens a request may load: all that was offered, unless an earlier load of it
     * failed; then at most {@value #LOAD_RETRIES_AFTER_FAILURE} more load, never reaching the block
     * that failed, and none after that.
     */
    int loadAllowance(Request r, int localTokens, int offered) {
        if (offered == 0 || r.loadFailures == 0) {
            return offered;
        }
        int allowed = r.loadFailures > LOAD_RETRIES_AFTER_FAILURE
                ? 0
                : Math.clamp((long) r.noLoadFromBlock * blockSize - localTokens, 0, offered);
        if (allowed < offered) {
            stats.loadsRefusedAfterFailure++;
        }
        return allowed;
    }
}
