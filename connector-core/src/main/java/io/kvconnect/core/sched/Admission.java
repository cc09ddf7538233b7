package io.kvconnect.core.sched;

import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.core.kv.KvCacheManager;
import io.kvconnect.core.kv.PrefixHit;

/**
 * Admits one waiting request into a step, as the reference engine does: a fresh request looks up
 * the GPU prefix cache, then asks the connector for matched tokens beyond the local hit ({@code
 * getNumNewMatchedTokens}), allocates its blocks laid out as {@code | local hit | external | new
 * |}, and tells the connector ({@code updateStateAfterAlloc}). A synchronous load runs within the
 * step; an asynchronous one parks the request in {@code WAITING_FOR_REMOTE_KV} until the workers
 * report it received, and a later admission promotes it.
 *
 * <p>The token budget is the caller's: it passes what is left, and an admitted request computes at
 * most that (and at most {@code long_prefill_chunk} prompt tokens).
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class Admission {
    /** What became of a request offered to the step. */
    enum Result {
        /** It computes in this step: its work was added. */
        SCHEDULED,
        /** It started an asynchronous load and waits for it, outside the step. */
        ASYNC_LOAD,
        /** It stays waiting (its load is in flight, or the connector asked to be asked later). */
        SKIPPED,
        /** Not enough free blocks: it stays at the head of the queue. */
        NO_SPACE,
        /** A connector hook failed: it finished with an error. */
        FAILED
    }

    private final SchedulerConfig config;
    private final KvCacheManager kv;
    private final RequestQueues queues;
    private final ConnectorCalls connector;
    private final TransferBook transfers;
    private final HeldOutputs held;
    private final LoadFailureRecovery recovery;
    private final StepClock clock;
    private final SchedulerStats stats;

    Admission(
            SchedulerConfig config,
            KvCacheManager kv,
            RequestQueues queues,
            ConnectorCalls connector,
            TransferBook transfers,
            HeldOutputs held,
            LoadFailureRecovery recovery,
            StepClock clock,
            SchedulerStats stats) {
        this.config = config;
        this.kv = kv;
        this.queues = queues;
        this.connector = connector;
        this.transfers = transfers;
        this.held = held;
        this.recovery = recovery;
        this.clock = clock;
        this.stats = stats;
    }

    /**
     * Offers {@code r}, just taken from the waiting queue, to the step being scheduled.
     *
     * @param budget tokens left in the step's budget, positive
     * @param entries where a scheduled request's entry is added (the last one, for the caller)
     */
    Result admit(Request r, int budget, StepEntries entries) {
        String id = r.requestId();
        if (r.status() == RequestStatus.WAITING_FOR_REMOTE_KV) {
            if (!transfers.takeFinishedLoad(id)) {
                return Result.SKIPPED;
            }
            promoteAfterLoad(r);
        }
        boolean fresh = r.scheduledThrough() == 0 && !kv.owns(id);
        PrefixHit hit = fresh ? kv.findCachedPrefix(r.numTokens(), r.hashChain()) : PrefixHit.NONE;
        int external = 0;
        boolean async = false;
        int computed;
        if (fresh) {
            if (connector.attached()) {
                MatchResult match = connector.getNumNewMatchedTokens(r, hit.tokens());
                if (match == null) {
                    queues.finish(
                            r,
                            RequestStatus.FINISHED_ERROR,
                            connector.failureReason(ConnectorHook.GET_NUM_NEW_MATCHED_TOKENS));
                    return Result.FAILED;
                }
                if (match instanceof MatchResult.AskLater) {
                    return Result.SKIPPED;
                }
                MatchResult.Tokens t = (MatchResult.Tokens) match;
                // The engine recomputes at least the last prompt token (logits), so it trims a
                // full-prompt hit itself instead of asking every connector to.
                external = recovery.loadAllowance(
                        r, hit.tokens(), Math.clamp(t.count(), 0, r.numTokens() - 1 - hit.tokens()));
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
        int[] added = kv.allocate(id, computed + numNew, hit, r.expectedTokens());
        if (added == null) {
            return Result.NO_SPACE;
        }
        if (fresh) {
            stats.prefixQueries += r.numTokens();
            stats.prefixHits += hit.tokens();
            r.setScheduledThrough(hit.tokens());
            r.confirmThrough(hit.tokens());
            if (connector.attached()) {
                stats.connectorQueries += r.numTokens() - hit.tokens();
                stats.connectorHits += external;
            }
        }
        if (external > 0) {
            transfers.grantLoad(id, hit.tokens(), external);
            recovery.loadGranted(r, hit.tokens(), external);
        }
        if (connector.attached() && !connector.updateStateAfterAlloc(r, kv.blocks(id), hit.tokens(), external)) {
            if (async) {
                // The connector may already have planned the load; keep the blocks until the
                // workers report it, like an abort during a transfer.
                transfers.awaitReceive(id);
                r.setStatus(RequestStatus.WAITING_FOR_REMOTE_KV);
            } else {
                // A synchronous load may still be in this step's metadata: keep the blocks
                // until the step has run, so no other request gets them meanwhile.
                transfers.fence(id, clock.current());
            }
            queues.finish(
                    r, RequestStatus.FINISHED_ERROR, connector.failureReason(ConnectorHook.UPDATE_STATE_AFTER_ALLOC));
            return Result.FAILED;
        }
        if (async) {
            stats.connectorAsyncLoads++;
            r.setScheduledThrough(computed);
            r.setStatus(RequestStatus.WAITING_FOR_REMOTE_KV);
            transfers.awaitReceive(id);
            return Result.ASYNC_LOAD;
        }
        if (external > 0) {
            // A synchronous load: a failure may be reported up to the window late.
            r.settleStep = Math.max(r.settleStep, clock.current() + config.loadFailureWindow());
        }
        ScheduledRequest.Kind kind = r.numPreemptions() > 0 ? ScheduledRequest.Kind.RESUMED : ScheduledRequest.Kind.NEW;
        r.setScheduledThrough(computed);
        r.setStatus(RequestStatus.RUNNING);
        queues.running().add(r);
        int[] all = kv.blockIds(id);
        entries.add(r, ScheduledWork.of(entries.nextWork(), r, clock.current(), kind, numNew, all, external));
        return Result.SCHEDULED;
    }

    /**
     * An asynchronous load finished: confirm (or, after a failure, truncate) and cache; while a
     * failure may still be reported (the load failure window), the loaded positions are held back.
     */
    private void promoteAfterLoad(Request r) {
        String id = r.requestId();
        if (transfers.takeFailedLoad(id)) {
            stats.requestsRecomputed++;
            if (r.scheduledThrough() == 0) {
                // Nothing usable was loaded: start over (a retry may hit the local cache, and the
                // load allowance keeps the connector from offering the failed blocks again).
                kv.free(id);
            }
        }
        if (r.settleStep > clock.lastApplied() && r.scheduledThrough() > 0) {
            held.hold(r, r.scheduledThrough(), SampledTokens.NONE);
        } else {
            r.confirmThrough(r.scheduledThrough());
            kv.cacheUpTo(r, r.numComputedTokens());
        }
        r.setStatus(r.numPreemptions() > 0 ? RequestStatus.PREEMPTED : RequestStatus.WAITING);
    }
}
