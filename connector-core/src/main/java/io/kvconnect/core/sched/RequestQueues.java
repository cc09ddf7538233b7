package io.kvconnect.core.sched;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.core.kv.KvCacheManager;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The requests the scheduler knows, its waiting and running queues, and the end of a request's
 * life: {@link #finish} (the connector's {@code requestFinished} decides whether a send holds the
 * blocks) and {@link #releaseIfUnheld} (the blocks go back and the request is forgotten once the
 * {@link TransferBook} holds nothing for it).
 *
 * <p>A request is known from its arrival until its blocks are released; it is in exactly one
 * queue while unfinished and in none once finished. The waiting queue is in arrival order (FCFS),
 * or by priority value then arrival (priority); requests put back at its head keep their place.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class RequestQueues {
    private final KvCacheManager kv;
    private final ConnectorCalls connector;
    private final TransferBook transfers;
    private final HeldOutputs held;
    private final Outbox outbox;
    private final SchedulerStats stats;
    /** {@code null} for FCFS: the queue's own order. */
    private final @Nullable Comparator<Request> waitingOrder;

    private final Map<String, Request> requests = new LinkedHashMap<>();
    private final List<Request> running = new ArrayList<>();
    private final List<Request> waiting = new ArrayList<>();
    /** Finished since the last step was scheduled: the next step tells the workers. */
    private final Set<String> finishedSinceLastSchedule = new LinkedHashSet<>();

    private final Map<String, Request> requestsView = Collections.unmodifiableMap(requests);
    private final List<RequestView> runningView = Collections.unmodifiableList(running);
    private final List<RequestView> waitingView = Collections.unmodifiableList(waiting);

    RequestQueues(
            SchedulingPolicy policy,
            KvCacheManager kv,
            ConnectorCalls connector,
            TransferBook transfers,
            HeldOutputs held,
            Outbox outbox,
            SchedulerStats stats) {
        this.kv = kv;
        this.connector = connector;
        this.transfers = transfers;
        this.held = held;
        this.outbox = outbox;
        this.stats = stats;
        this.waitingOrder = policy == SchedulingPolicy.PRIORITY
                ? Comparator.comparingInt(Request::priority).thenComparingLong(Request::arrivalOrder)
                : null;
    }

    /** Whether {@code id} is known (unfinished, or finished with its blocks held). */
    boolean contains(String id) {
        return requests.containsKey(id);
    }

    /** The request, or {@code null} if unknown. */
    @Nullable
    Request get(String id) {
        return requests.get(id);
    }

    /**
     * The request {@code id}, which the caller knows to be known: a transfer or a scheduled step
     * still refers to it, so its blocks, and it, are still held.
     *
     * @throws IllegalStateException if it is not (a bug in the scheduler's bookkeeping)
     */
    Request require(String id) {
        Request r = requests.get(id);
        if (r == null) {
            throw new IllegalStateException("request " + id + " is referred to but not known");
        }
        return r;
    }

    /** Every known request, in arrival order; live, so do not change the scheduler while iterating. */
    Collection<Request> known() {
        return requests.values();
    }

    /** A newly arrived request joins the known ones and the waiting queue. */
    void arrive(Request r) {
        requests.put(r.requestId(), r);
        enqueueWaiting(r, false);
    }

    /**
     * Puts {@code r} into the waiting queue: at its head ({@code front}: skipped or preempted
     * requests keep their place) or its tail, or by priority.
     */
    void enqueueWaiting(Request r, boolean front) {
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

    /** The running queue, in admission order; the scheduler's parts change it. */
    List<Request> running() {
        return running;
    }

    /** The waiting queue; the scheduler's parts change it. */
    List<Request> waiting() {
        return waiting;
    }

    /** Whether requests wait or run (transfers aside). */
    boolean hasRequests() {
        return !running.isEmpty() || !waiting.isEmpty();
    }

    /** Ids finished since the last step was scheduled, in order; live. */
    Set<String> finishedSinceLastSchedule() {
        return finishedSinceLastSchedule;
    }

    // ------------------------------------------------------------------ finishing

    /**
     * Finishes a request: it leaves its queue, its held outputs are dropped, the connector's
     * {@code requestFinished} decides whether its blocks wait for a send, and a {@link
     * RequestUpdate.Finished} goes to the outbox. Blocks of a request whose load is in flight wait
     * for the load. Its blocks are freed at once if nothing holds them.
     *
     * @param reason why it failed (status {@code FINISHED_ERROR}; the first reason is kept), or
     *     why it was aborted; ignored for a natural stop
     */
    void finish(Request r, RequestStatus status, String reason) {
        String id = r.requestId();
        RequestStatus before = r.status();
        running.remove(r);
        waiting.remove(r);
        transfers.takeFinishedLoad(id);
        held.drop(r);
        r.setStatus(status);
        if (status == RequestStatus.FINISHED_ERROR) {
            r.fail(reason);
            stats.requestsFailed++;
        }
        finishedSinceLastSchedule.add(id);
        TransferParams params = TransferParams.empty();
        if (connector.attached()) {
            FinishResult fr = connector.requestFinished(r, kv.blocks(id));
            if (fr != null) {
                params = fr.params();
                if (fr.delayFree()) {
                    transfers.awaitSend(id);
                }
            }
        }
        if (before != RequestStatus.WAITING_FOR_REMOTE_KV) {
            transfers.stopAwaitingReceive(id);
        }
        // An error keeps its first reason; an abort says so; a natural stop has none.
        String why =
                r.failureReason() != null ? r.failureReason() : status == RequestStatus.FINISHED_ABORTED ? reason : "";
        outbox.update(
                new RequestUpdate.Finished(id, status, why, params, r.tokenIds(r.numPromptTokens(), r.numTokens())));
        releaseIfUnheld(r);
    }

    /** Frees a finished request's blocks and forgets it, unless a send, a load or a fence still holds them. */
    void releaseIfUnheld(Request r) {
        String id = r.requestId();
        if (transfers.holds(id)) {
            return;
        }
        kv.free(id);
        requests.remove(id);
    }

    // ------------------------------------------------------------------ read-only views

    /** The known requests by id; a read-only live view. */
    Map<String, Request> knownView() {
        return requestsView;
    }

    /** The running queue; a read-only live view. */
    List<RequestView> runningView() {
        return runningView;
    }

    /** The waiting queue; a read-only live view. */
    List<RequestView> waitingView() {
        return waitingView;
    }
}
