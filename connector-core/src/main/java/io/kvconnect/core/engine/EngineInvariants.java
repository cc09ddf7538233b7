package io.kvconnect.core.engine;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.ConnectorBlockView;
import io.kvconnect.core.kv.KvCacheManager;
import io.kvconnect.core.sched.Request;
import io.kvconnect.core.sched.Scheduler;
import io.kvconnect.core.sched.SchedulerView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The engine's invariants, checked after a step (tests check after every step):
 * <ul>
 *   <li>the pool's structure is sound (free queue = blocks without references, cache map agrees);</li>
 *   <li>every block's reference count equals the requests owning it plus the connector's references
 *       — every block is free or owned, and counts balance;</li>
 *   <li>every block owner is a request the engine knows;</li>
 *   <li>every known request is waiting, running, or finished with its blocks held for a reason
 *       (a send, a load in flight, a step fence) — none is stuck in between.</li>
 * </ul>
 */
public final class EngineInvariants {
    private EngineInvariants() {}

    /**
     * Checks every invariant.
     *
     * @throws IllegalStateException listing every violation found
     */
    public static void check(Scheduler scheduler) {
        List<String> problems = new ArrayList<>();
        SchedulerView state = scheduler.view();
        KvCacheManager kv = state.kvCacheManager();
        BlockPool pool = kv.pool();
        ConnectorBlockView view = state.connectorBlockView();
        try {
            pool.checkStructure();
        } catch (IllegalStateException e) {
            problems.add(e.getMessage());
        }
        int[] owners = new int[pool.numBlocks()];
        Map<String, Request> known = state.knownRequests();
        for (String id : kv.owners()) {
            if (!known.containsKey(id)) {
                problems.add("blocks owned by request '" + id + "' that the engine no longer knows (leak)");
            }
            for (int b : kv.blockIds(id)) {
                owners[b]++;
            }
        }
        for (int b = 1; b < pool.numBlocks(); b++) {
            int expected = owners[b] + view.heldReferences(b);
            if (pool.refCount(b) != expected) {
                problems.add("block " + b + " has " + pool.refCount(b) + " references, but " + owners[b]
                        + " request(s) and " + view.heldReferences(b) + " connector reference(s) hold it");
            }
        }
        for (Request r : known.values()) {
            RequestStatus s = r.status();
            boolean queued = state.runningRequests().contains(r)
                    || state.waitingRequests().contains(r);
            if (s.isFinished()) {
                if (queued) {
                    problems.add("finished request " + r.requestId() + " is still queued");
                }
                if (!state.heldForSending().contains(r.requestId())
                        && !state.heldForReceiving().contains(r.requestId())
                        && !state.isFenced(r.requestId())) {
                    problems.add("finished request " + r.requestId() + " is kept with no reason (stuck)");
                }
            } else if (!queued) {
                problems.add("request " + r.requestId() + " (" + s + ") is neither waiting nor running (stuck)");
            }
            if (r.numComputedTokens() > r.numTokens()) {
                problems.add("request " + r.requestId() + " has more computed tokens than tokens");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException(
                    "engine invariants violated at step " + state.step() + ":\n  " + String.join("\n  ", problems));
        }
    }

    /**
     * Checks that a drained engine holds nothing: no request, every block free, no connector
     * reference.
     *
     * @throws IllegalStateException listing what is still held
     */
    public static void checkDrained(Scheduler scheduler) {
        check(scheduler);
        List<String> problems = new ArrayList<>();
        SchedulerView state = scheduler.view();
        if (!state.knownRequests().isEmpty()) {
            problems.add("requests still known: " + state.knownRequests().values());
        }
        BlockPool pool = state.kvCacheManager().pool();
        if (pool.numFreeBlocks() != pool.usableBlocks()) {
            problems.add((pool.usableBlocks() - pool.numFreeBlocks()) + " block(s) still held");
        }
        if (state.connectorBlockView().totalHeld() != 0) {
            problems.add(state.connectorBlockView().totalHeld() + " connector reference(s) still held");
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("engine not drained: " + String.join("; ", problems));
        }
    }
}
