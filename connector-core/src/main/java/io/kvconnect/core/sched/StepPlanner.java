package io.kvconnect.core.sched;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.KvCacheManager;
import io.kvconnect.core.kv.PrefixHit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides what one step computes, within the token budget ({@code max_batched_tokens}) and the
 * running-request limit:
 * <ol>
 *   <li>running requests first, each growing by its next prefill chunk or decode token; when
 *       blocks run out, a victim is preempted ({@link Preemption}), idle blocks of waiting
 *       requests are taken back first, and a request waits rather than preempt itself while
 *       blocks are tied up in loads in flight;</li>
 *   <li>then, if nothing was preempted, waiting requests in queue order, each through {@link
 *       Admission};</li>
 *   <li>then the connector's metadata for the step ({@code buildConnectorMetadata}); if that
 *       fails, every request that relied on the connector in this step fails and the rest runs.</li>
 * </ol>
 * Scheduled positions then move past the step (with a placeholder for each sampled token under
 * asynchronous scheduling), so the next step can be planned before this one's output is applied.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class StepPlanner {
    private static final int[] NO_BLOCKS = new int[0];

    private final SchedulerConfig config;
    private final BlockPool pool;
    private final KvCacheManager kv;
    private final TokenBlocks blocks;
    private final RequestQueues queues;
    private final Admission admission;
    private final Preemption preemption;
    private final ConnectorCalls connector;
    private final TransferBook transfers;
    private final StepClock clock;
    // Scratch collections of one plan() call, cleared at its start and reused: most steps preempt,
    // skip and start loading nothing, and three fresh collections per step are garbage for
    // nothing. What leaves plan() is copied out of them (SchedulerOutput copies the non-empty ones).
    private final Set<String> preempted = new LinkedHashSet<>();
    private final List<Request> skipped = new ArrayList<>();
    private final List<String> startedAsyncLoads = new ArrayList<>();
    /**
     * The requests of the last planned step whose entries load synchronously (external tokens):
     * noted as they are admitted, so that {@link #syncLoads()} needs no pass over the step's
     * entries. Cleared at the start of each plan() call and when the connector's metadata failed
     * (those entries are dropped then).
     */
    private final List<String> syncLoads = new ArrayList<>();
    // The entries a step's output holds, one set for even and one for odd steps, refilled rather
    // than made per step: the output of step n is read until step n is applied, and step n + 2 is
    // planned after that (see ScheduledWork on why at most one step is planned ahead). An output
    // remembers its size and checks each entry's step, so a stale one cannot read refilled entries.
    private final StepEntries[] entriesByParity = {new StepEntries(), new StepEntries()};

    StepPlanner(
            SchedulerConfig config,
            KvCacheManager kv,
            RequestQueues queues,
            Admission admission,
            Preemption preemption,
            ConnectorCalls connector,
            TransferBook transfers,
            StepClock clock) {
        this.config = config;
        this.kv = kv;
        this.pool = kv.pool();
        this.blocks = new TokenBlocks(pool.blockSize());
        this.queues = queues;
        this.admission = admission;
        this.preemption = preemption;
        this.connector = connector;
        this.transfers = transfers;
        this.clock = clock;
    }

    /** Plans step {@link StepClock#current()}, which the caller has just started. */
    SchedulerOutput plan() {
        long step = clock.current();
        pool.prepareForAllocations();
        List<Request> running = queues.running();
        List<Request> waiting = queues.waiting();
        int budget = config.maxBatchedTokens();
        StepEntries entries = entriesByParity[(int) (step & 1)];
        entries.clear();
        preempted.clear();
        skipped.clear();
        startedAsyncLoads.clear();
        syncLoads.clear();
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
            int needed = blocks.covering(target) <= blocks.covering(r.scheduledThrough())
                    ? 0
                    : kv.blocksNeeded(r.ownedBlocks(), target);
            while (needed > pool.numFreeBlocks()) {
                Request victim = preemption.pickVictim();
                if (victim == r) {
                    // Before the last running request gives up its own blocks, take back blocks
                    // that sit idle in the waiting queue (finished loads waiting for room):
                    // otherwise they can starve it forever.
                    Request idle = preemption.reclaimableWaiting();
                    if (idle != null) {
                        preemption.reclaim(idle);
                        preempted.add(idle.requestId());
                        needed = kv.blocksNeeded(r.ownedBlocks(), target);
                        continue;
                    }
                    // Blocks tied up in waiting requests' loads in flight become reclaimable once
                    // the loads are reported: wait for that rather than give up r's blocks. Else
                    // r, readmitted with a load of its own, squeezes the loader once it runs, which
                    // preempts itself the same way: two requests can take turns forever.
                    if (preemption.loadInFlightInWaiting()) {
                        waitForLoads = true;
                        break;
                    }
                }
                if (victim.scheduledInStep == step) {
                    victim.scheduledInStep = -1;
                    int removed = entries.remove(victim);
                    budget += removed;
                    total -= removed;
                }
                int victimIndex = running.indexOf(victim);
                preemption.preempt(victim);
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
            // The new blocks are read as a window on the request's own list of blocks: no array.
            int[] blockBuffer = NO_BLOCKS;
            int blockFrom = 0;
            int numAdded = 0;
            if (needed > 0) {
                KvCacheManager.Owned own = r.ownedBlocks();
                if (own != null) {
                    numAdded = kv.grow(own, target);
                    blockBuffer = own.blockIdArray();
                    blockFrom = own.numBlocks() - numAdded;
                } else {
                    int[] fresh = kv.allocate(r.requestId(), target, PrefixHit.NONE);
                    numAdded = fresh == null ? -1 : fresh.length;
                    blockBuffer = fresh == null ? NO_BLOCKS : fresh;
                }
                if (numAdded < 0) {
                    throw new IllegalStateException("allocation failed after preemption freed enough blocks");
                }
            }
            ScheduledWork w = ScheduledWork.of(
                    entries.nextWork(),
                    r,
                    step,
                    ScheduledRequest.Kind.CONTINUING,
                    numNew,
                    blockBuffer,
                    blockFrom,
                    numAdded,
                    0);
            entries.add(r, w);
            // Moved past this step now, not in advance(): one pass over the running requests
            // fewer. Until the step is applied nothing else reads the position: this loop reads
            // each request once, and a request it preempts later has its position reset to 0.
            r.setScheduledThrough(w.start() + w.numTokens());
            r.scheduledInStep = step;
            budget -= numNew;
            total += numNew;
        }

        // The running requests' entries, already moved past this step.
        int advancedEntries = entries.size();

        // 2. Waiting requests, only if nothing was preempted (admitting now would thrash) and no
        // running request waits for blocks (they would take them).
        if (preempted.isEmpty() && !waitsForLoads) {
            while (!waiting.isEmpty() && budget > 0 && running.size() < config.maxRunningRequests()) {
                Request r = waiting.removeFirst();
                if (preempted.contains(r.requestId())) {
                    // Its blocks were taken back in this step; outputs of this step are stale for it.
                    skipped.add(r);
                    continue;
                }
                switch (admission.admit(r, budget, entries)) {
                    case SKIPPED -> skipped.add(r);
                    case ASYNC_LOAD -> {
                        skipped.add(r);
                        startedAsyncLoads.add(r.requestId());
                    }
                    case NO_SPACE -> {
                        waiting.addFirst(r);
                        // Nothing runs, so nothing will free blocks: take them back from waiting
                        // requests behind this one (finished loads waiting for room) and retry.
                        Request idle = running.isEmpty() ? preemption.reclaimableWaiting() : null;
                        if (idle != null && idle != r) {
                            preemption.reclaim(idle);
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
                        budget -= entries.last().numTokens();
                        total += entries.last().numTokens();
                        if (entries.last().externalTokens() > 0) {
                            syncLoads.add(r.requestId());
                        }
                    }
                }
            }
        }
        // Skipped requests keep their place at the head of the queue, in order.
        for (int i = skipped.size() - 1; i >= 0; i--) {
            queues.enqueueWaiting(skipped.get(i), true);
        }

        // 3. The connector's metadata for the step.
        Set<String> finished = queues.finishedSinceLastSchedule();
        SchedulerOutput out = new SchedulerOutput(step, entries.requests(), entries.work(), preempted, finished, total);
        out.setStartedAsyncLoads(startedAsyncLoads);
        if (!startedAsyncLoads.isEmpty()) {
            Map<String, int[]> targets = new HashMap<>();
            for (String id : startedAsyncLoads) {
                Request r = queues.get(id);
                if (r != null && transfers.awaitingReceive(id)) {
                    targets.put(id, loadTargets(r));
                }
            }
            out.setAsyncLoadBlocks(targets);
        }
        // Cleared before dropConnectorWork: requests it finishes must reach the next step's
        // finished ids (workers may report a delayed free only for ids they were given there).
        finished.clear();
        if (connector.attached()) {
            ConnectorMetadata meta = connector.buildConnectorMetadata(out);
            if (meta == null) {
                out = dropConnectorWork(
                        out, startedAsyncLoads, connector.failureReason(ConnectorHook.BUILD_CONNECTOR_METADATA));
                syncLoads.clear(); // their entries were dropped, their requests failed
            } else {
                out.setConnectorMetadata(meta);
            }
        }
        // After a dropped connector the output is another object, but it keeps the running
        // requests' entries first and in order: they load nothing, so none of them was dropped.
        advance(out, advancedEntries);
        return out;
    }

    /**
     * The requests whose entries in the step planned last load synchronously, in entry order; a
     * list the next {@link #plan()} clears, so a caller that keeps it copies it.
     */
    List<String> syncLoads() {
        return syncLoads;
    }

    /** The blocks of an asynchronous load's external range: from the confirmed (hit) to the scheduled positions. */
    private int[] loadTargets(Request r) {
        int from = blocks.full(r.numComputedTokens());
        int to = blocks.covering(r.scheduledThrough());
        int[] ids = new int[Math.max(0, to - from)];
        for (int i = from; i < to; i++) {
            ids[i - from] = kv.blockAt(r.requestId(), i);
        }
        return ids;
    }

    /**
     * {@code buildConnectorMetadata} threw, so no worker learns of this step's loads: every request
     * that relied on the connector in this step fails (its blocks can be freed at once, since no
     * copy was started), the rest of the step runs.
     */
    private SchedulerOutput dropConnectorWork(SchedulerOutput out, List<String> startedAsyncLoads, String reason) {
        List<Request> keptScheduled = new ArrayList<>();
        List<ScheduledWork> keptWork = new ArrayList<>();
        for (int i = 0; i < out.work().size(); i++) {
            ScheduledWork w = out.work().get(i);
            if (w.externalTokens() > 0) {
                queues.finish(queues.require(w.requestId()), RequestStatus.FINISHED_ERROR, reason);
            } else {
                keptScheduled.add(out.requestOfCheckedEntry(i));
                keptWork.add(w);
            }
        }
        for (String id : startedAsyncLoads) {
            Request r = queues.require(id);
            transfers.stopAwaitingReceive(id);
            queues.finish(r, RequestStatus.FINISHED_ERROR, reason);
        }
        int total = 0;
        for (ScheduledWork w : keptWork) {
            total += w.numTokens();
        }
        return new SchedulerOutput(
                out.step(), keptScheduled, keptWork, out.preemptedRequestIds(), out.finishedRequestIds(), total);
    }

    /**
     * Moves the position of each scheduled request from entry {@code from} on past this step (the
     * earlier ones were moved as they were planned), and adds placeholders to every entry that
     * samples under asynchronous scheduling (after the connector's metadata, which sees the
     * placeholders of earlier steps only).
     */
    private void advance(SchedulerOutput out, int from) {
        List<ScheduledWork> work = out.work();
        boolean placeholders = config.asyncScheduling();
        for (int i = placeholders ? 0 : from; i < work.size(); i++) {
            ScheduledWork w = work.get(i);
            Request r = out.requestOfCheckedEntry(i);
            if (i >= from) {
                r.setScheduledThrough(w.start() + w.numTokens());
            }
            if (placeholders && w.samples()) {
                r.addPlaceholder();
            }
        }
    }
}
