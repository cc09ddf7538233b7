package io.kvconnect.core.sched;

import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.KvCacheManager;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Applies the workers' output of a step, in this order: the finished reports are counted ({@link
 * TransferBook}), failed loads (the eviction rule of {@link LoadFailureRecovery}), loads broken by
 * failed worker hooks, then per scheduled request its sampled token
 * and the confirmation and caching of what it computed — discarded if the request finished or was
 * reset after the step was scheduled, held back while a load it read may still be reported failed
 * ({@link HeldOutputs}) — then {@code updateConnectorOutput}, finished receives and sends ({@link
 * TransferBook}), connector events and stats, ended fences, held outputs whose loads settled, and
 * the worker hook failures under the connector error policy ({@link ConnectorCalls}).
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class OutputApplier {
    private final KvCacheManager kv;
    private final BlockPool pool;
    private final TokenBlocks blocks;
    private final SchedulerConfig config;
    private final RequestQueues queues;
    private final ConnectorCalls connector;
    private final TransferBook transfers;
    private final HeldOutputs held;
    private final LoadFailureRecovery recovery;
    private final Outbox outbox;
    private final StepClock clock;

    OutputApplier(
            SchedulerConfig config,
            KvCacheManager kv,
            RequestQueues queues,
            ConnectorCalls connector,
            TransferBook transfers,
            HeldOutputs held,
            LoadFailureRecovery recovery,
            Outbox outbox,
            StepClock clock) {
        this.config = config;
        this.kv = kv;
        this.pool = kv.pool();
        this.blocks = new TokenBlocks(pool.blockSize());
        this.queues = queues;
        this.connector = connector;
        this.transfers = transfers;
        this.held = held;
        this.recovery = recovery;
        this.outbox = outbox;
        this.clock = clock;
    }

    /**
     * Applies the workers' output of {@code out}'s step.
     *
     * @return the outcome: this step's discarded and held outputs, and everything in the outbox
     */
    StepOutcome apply(SchedulerOutput out, StepResult result) {
        // The previous outcome's updates were lent until now (see RequestUpdates).
        outbox.reclaimUpdates();
        // Allocated only when needed: most steps discard and hold nothing.
        Set<String> discardedOutputs = null;
        Set<String> heldOutputs = null;
        ConnectorOutput co = connectorOutput(result.reports());
        Set<String> truncated =
                co.invalidBlockIds().isEmpty() ? Set.of() : recovery.invalidBlocksReported(co.invalidBlockIds(), out);
        if (!result.hookFailures().isEmpty()) {
            recovery.loadsBrokenByWorkerHooks(out, co.finishedReceiving(), result.hookFailures());
        }
        int entries = out.work().size();
        for (int i = 0; i < entries; i++) {
            ScheduledWork w = out.work().get(i);
            // The output holds the request itself: no lookup by id on this per-token path. The
            // entry was checked by get(i) just above: not a second time per entry and step.
            Request r = out.requestOfCheckedEntry(i);
            // Most steps truncate nothing: skip the per-request set lookup then.
            if (r.status().isFinished()
                    || r.discards(out.step())
                    || (!truncated.isEmpty() && truncated.contains(w.requestId()))) {
                discardedOutputs = add(discardedOutputs, w.requestId());
                continue;
            }
            int token = w.samples()
                    ? result.sampledTokens().token(out.step(), i, entries, w.requestId())
                    : SampledTokens.NONE;
            if (w.samples() && token == SampledTokens.NONE) {
                // Every rank samples every request whose last known position it computed: a missing
                // token means the step's output for the request is lost. Skipping it (as the
                // reference engine does for outputs it legitimately lacks) would leave the request
                // waiting for a token nobody computes; fail it with the reason instead.
                queues.finish(
                        r, RequestStatus.FINISHED_ERROR, "the workers sampled no token for it in step " + out.step());
                discardedOutputs = add(discardedOutputs, w.requestId());
                continue;
            }
            if (r.settleStep > out.step()) {
                // Computed from loaded KV that may still be reported failed: hold it back.
                held.hold(r, w.start() + w.numTokens(), token);
                heldOutputs = add(heldOutputs, w.requestId());
                continue;
            }
            if (r.holdsOutputs() && !release(r)) {
                continue; // finished by a released token (a stop or the length cap)
            }
            r.confirmThrough(w.start() + w.numTokens());
            // Cached before the token is appended: the request may finish on it.
            cacheConfirmed(r);
            if (token != SampledTokens.NONE) {
                appendToken(r, token);
            }
        }
        if (connector.attached()) {
            connector.updateConnectorOutput(co);
        }
        // In id order: ending a wait may free blocks, and the order of frees must not depend on a
        // Set's iteration order (see TransferBook.inIdOrder).
        for (String id : TransferBook.inIdOrder(co.finishedReceiving())) {
            receiveFinished(id, out.step());
        }
        for (String id : TransferBook.inIdOrder(co.finishedSending())) {
            if (transfers.sendReported(id)) {
                queues.releaseIfUnheld(queues.require(id));
            }
        }
        co.stats().ifPresent(outbox::connectorStats);
        outbox.events(co.workerEvents());
        if (connector.attached()) {
            List<KvEvent> own = connector.takeEvents();
            if (own != null) {
                outbox.events(own);
            }
            Optional<ConnectorStats> s = connector.takeStats();
            if (s != null) {
                s.ifPresent(outbox::connectorStats);
            }
        }
        for (String id : transfers.endFences(out.step())) {
            Request r = queues.get(id);
            if (r != null) {
                queues.releaseIfUnheld(r);
            }
        }
        clock.applied(out.step());
        releaseSettled();
        outbox.events(pool);
        if (!result.hookFailures().isEmpty()) {
            connector.workerHooksFailed(
                    result.hookFailures().size(), result.hookFailures().getFirst() + " in step " + out.step());
        }
        return new StepOutcome(
                outbox.lendUpdates(),
                readOnly(discardedOutputs),
                readOnly(heldOutputs),
                outbox.takeResolutions(),
                outbox.takeEvents(),
                outbox.takeConnectorStats(),
                connector.disableRequested());
    }

    private static Set<String> add(@Nullable Set<String> ids, String id) {
        Set<String> s = ids == null ? new HashSet<>() : ids;
        s.add(id);
        return s;
    }

    private static Set<String> readOnly(@Nullable Set<String> ids) {
        return ids == null ? Set.of() : Collections.unmodifiableSet(ids);
    }

    /**
     * The output the connector's {@code updateConnectorOutput} gets: the step's reports with the
     * finished transfers they completed (counted by the {@link TransferBook}).
     */
    private ConnectorOutput connectorOutput(WorkerReports reports) {
        if (reports.isNone()) {
            return ConnectorOutput.EMPTY;
        }
        FinishedTransfers completed = transfers.countReports(reports.finishedByRank());
        ConnectorOutput co = new ConnectorOutput(
                completed.sending(),
                completed.receiving(),
                reports.invalidBlockIds(),
                reports.stats(),
                reports.events(),
                reports.workerMetadata());
        // Not co.equals(EMPTY) nor co.isEmpty(): they call the connector's own equals or isEmpty of
        // its stats and metadata, plugin code outside any hook.
        boolean empty = co.finishedSending().isEmpty()
                && co.finishedReceiving().isEmpty()
                && co.invalidBlockIds().isEmpty()
                && co.stats().isEmpty()
                && co.workerEvents().isEmpty()
                && co.workerMetadata().isEmpty();
        return empty ? ConnectorOutput.EMPTY : co;
    }

    private void receiveFinished(String id, long reportStep) {
        if (!transfers.receiveReported(id)) {
            return;
        }
        transfers.endLoads(id);
        Request r = queues.require(id);
        if (r.status() == RequestStatus.WAITING_FOR_REMOTE_KV) {
            transfers.loadFinished(id);
            // A failure of this load may still be reported up to the window late.
            r.settleStep = Math.max(r.settleStep, reportStep + config.loadFailureWindow());
        } else {
            // Finished (aborted or failed) while its load was in flight: the blocks can go now.
            transfers.takeFailedLoad(id);
            queues.releaseIfUnheld(r);
        }
    }

    /**
     * Appends a sampled, confirmed token and finishes the request if it stops there: at its length
     * cap first, then at the end-of-sequence token (the reference engine's order).
     *
     * @return whether the request is still unfinished
     */
    private boolean appendToken(Request r, int token) {
        if (r.appendOutputToken(token)) {
            expectCaching(r);
        }
        outbox.token(r.requestId(), token, r.numOutputTokens());
        if (r.reachedMaxTokens()) {
            queues.finish(r, RequestStatus.FINISHED_LENGTH_CAPPED, "");
            return false;
        }
        if (token == Request.EOS_TOKEN_ID) {
            queues.finish(r, RequestStatus.FINISHED_STOPPED, "");
            return false;
        }
        return true;
    }

    /**
     * The request's last block just got all its tokens: it is cached once its KV is confirmed, in
     * a step or two; tell the pool (a method of its own, so the per-token path stays small). Only a
     * hint: a block the request does not own yet is not announced.
     */
    private void expectCaching(Request r) {
        int index = r.numBlockHashes() - 1;
        KvCacheManager.Owned own = r.ownedBlocks();
        if (own != null && index < own.numBlocks()) {
            pool.expectCaching(r.hashChain(), index, own.blockIdArray()[index]);
        }
    }

    /** Releases the held outputs of every request whose loads are settled by now. */
    private void releaseSettled() {
        if (held.isEmpty()) {
            return;
        }
        for (Request r : held.holdingRequests()) {
            if (r.settleStep <= clock.lastApplied()) {
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
        HeldOutputs.Released released = held.release(r);
        r.confirmThrough(released.confirmThrough());
        cacheConfirmed(r);
        for (int token : released.tokens()) {
            if (!appendToken(r, token)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Caches the request's confirmed full blocks; skips the manager when no block became full
     * since the last call (the request remembers how far it cached; truncation resets that).
     */
    private void cacheConfirmed(Request r) {
        int full = blocks.full(r.numComputedTokens());
        if (full > r.cachedBlocksHint) {
            KvCacheManager.Owned own = r.ownedBlocks();
            if (own != null) {
                kv.cacheUpTo(own, r.hashChain(), r.numComputedTokens());
            }
            r.cachedBlocksHint = full;
        }
    }
}
