package io.kvconnect.core.sched;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.KvCacheManager;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Taking GPU blocks back from requests when a running request needs more than are free:
 * preemption by recomputation of a running request (the victim the scheduling policy picks), and
 * reclaiming the blocks of a waiting request that holds some idle (its load finished, but it found
 * no room to run). Either way the request's blocks go back at once, its held outputs are dropped,
 * it counts a preemption and will compute everything again; the connector is not consulted.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class Preemption {
    private final SchedulingPolicy policy;
    private final RequestQueues queues;
    private final TransferBook transfers;
    private final HeldOutputs held;
    private final KvCacheManager kv;
    private final StepClock clock;
    private final SchedulerStats stats;

    Preemption(
            SchedulingPolicy policy,
            RequestQueues queues,
            TransferBook transfers,
            HeldOutputs held,
            KvCacheManager kv,
            StepClock clock,
            SchedulerStats stats) {
        this.policy = policy;
        this.queues = queues;
        this.transfers = transfers;
        this.held = held;
        this.kv = kv;
        this.clock = clock;
        this.stats = stats;
    }

    /**
     * The running request to preempt: the last admitted (FCFS), or the one with the highest
     * priority value, the latest arrival among equals (priority). The queue must not be empty.
     */
    Request pickVictim() {
        List<Request> running = queues.running();
        if (policy == SchedulingPolicy.FCFS) {
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

    /** Preempts a running request: its blocks go back at once and it waits at the head of the queue. */
    void preempt(Request r) {
        queues.running().remove(r);
        held.drop(r);
        kv.free(r.requestId());
        r.resetComputed(clock.current());
        r.countPreemption();
        r.setStatus(RequestStatus.PREEMPTED);
        stats.preemptions++;
        queues.enqueueWaiting(r, true);
    }

    /**
     * The last waiting request whose blocks can be taken back safely: it holds blocks, but it is
     * not running and no load into them is in flight (its load reported finished, or it was
     * promoted and found no room to compute). {@code null} if there is none.
     */
    @Nullable
    Request reclaimableWaiting() {
        List<Request> waiting = queues.waiting();
        for (int i = waiting.size() - 1; i >= 0; i--) {
            Request w = waiting.get(i);
            if (kv.owns(w.requestId()) && !transfers.awaitingReceive(w.requestId())) {
                return w;
            }
        }
        return null;
    }

    /** Whether a waiting request holds blocks for a load still in flight. */
    boolean loadInFlightInWaiting() {
        for (Request w : queues.waiting()) {
            if (transfers.awaitingReceive(w.requestId()) && kv.owns(w.requestId())) {
                return true;
            }
        }
        return false;
    }

    /** Takes a waiting request's blocks back; like a preempted request it will be recomputed. */
    void reclaim(Request w) {
        String id = w.requestId();
        transfers.forgetLoadOutcome(id);
        held.drop(w);
        kv.free(id);
        w.resetComputed(clock.current());
        w.countPreemption();
        w.setStatus(RequestStatus.PREEMPTED);
        stats.preemptions++;
    }
}
