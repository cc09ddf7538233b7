package io.kvconnect.core.sched;

import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerState;
import io.kvconnect.core.kv.ConnectorBlockView;
import io.kvconnect.core.kv.KvCacheManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A read-only view of the scheduler. Its {@link SchedulerState} face is what the connector gets in
 * {@code bindSchedulerState}: queues, requests and the GPU pool as connectors may see them. Its
 * other methods serve the engine's invariant checks ({@code EngineInvariants}), tests and
 * diagnostics: the known requests, the blocks held for transfers, the KV-cache manager.
 *
 * <p>Every method reads the scheduler's live state: nothing is copied or cached, so an answer is
 * valid until the scheduler next runs. Nothing here changes it.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
public final class SchedulerView implements SchedulerState {
    private final SchedulerConfig config;
    private final KvCacheManager kv;
    private final ConnectorBlockView connectorView;
    private final RequestQueues queues;
    private final TransferBook transfers;
    private final StepClock clock;

    SchedulerView(
            SchedulerConfig config,
            KvCacheManager kv,
            ConnectorBlockView connectorView,
            RequestQueues queues,
            TransferBook transfers,
            StepClock clock) {
        this.config = config;
        this.kv = kv;
        this.connectorView = connectorView;
        this.queues = queues;
        this.transfers = transfers;
        this.clock = clock;
    }

    // ------------------------------------------------------------------ what connectors see

    @Override
    public int blockSize() {
        return kv.pool().blockSize();
    }

    @Override
    public long step() {
        return clock.current();
    }

    @Override
    public boolean asyncScheduling() {
        return config.asyncScheduling();
    }

    @Override
    public List<RequestView> waitingRequests() {
        return queues.waitingView();
    }

    @Override
    public List<RequestView> runningRequests() {
        return queues.runningView();
    }

    @Override
    public Optional<RequestView> findRequest(String requestId) {
        return Optional.ofNullable(queues.get(requestId));
    }

    @Override
    public GPUBlockPoolView gpuBlockPool() {
        return connectorView;
    }

    // ------------------------------------------------------------------ for invariant checks, tests and diagnostics

    /** The KV-cache manager. */
    public KvCacheManager kvCacheManager() {
        return kv;
    }

    /** The connector's view of the pool, which counts its references. */
    public ConnectorBlockView connectorBlockView() {
        return connectorView;
    }

    /** Requests the engine still knows: unfinished ones and finished ones whose blocks are held. */
    public Map<String, Request> knownRequests() {
        return queues.knownView();
    }

    /** Ids of finished requests whose blocks wait for a send. */
    public Set<String> heldForSending() {
        return transfers.awaitedSends();
    }

    /** Ids of requests whose asynchronous loads are in flight. */
    public Set<String> heldForReceiving() {
        return transfers.awaitedReceives();
    }

    /** Whether a finished request's blocks are kept until its step has run (a hook failed mid-admission). */
    public boolean isFenced(String requestId) {
        return transfers.isFenced(requestId);
    }

    /** Ids of asynchronous loads reported finished, waiting for promotion. */
    public Set<String> finishedReceivingIds() {
        return transfers.finishedLoads();
    }

    /** Ids of asynchronous loads that failed (policy recompute), waiting for promotion. */
    public Set<String> failedReceivingIds() {
        return transfers.failedLoads();
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
    public record RequestState(
            String requestId,
            RequestStatus status,
            int numTokens,
            int scheduledThrough,
            int confirmed,
            int placeholders,
            int heldConfirm,
            int heldTokens,
            long settleStep,
            int loadFailures,
            List<Integer> blocks) {
        /** Copies the blocks. */
        public RequestState {
            blocks = List.copyOf(blocks);
        }
    }

    /** A snapshot of the state of a request the scheduler knows, or empty. */
    public Optional<RequestState> requestState(String requestId) {
        Request r = queues.get(requestId);
        if (r == null) {
            return Optional.empty();
        }
        List<Integer> blocks = new ArrayList<>();
        for (int b : kv.blockIds(requestId)) {
            blocks.add(b);
        }
        return Optional.of(new RequestState(
                requestId,
                r.status(),
                r.numTokens(),
                r.scheduledThrough(),
                r.numComputedTokens(),
                r.numOutputPlaceholders(),
                r.heldConfirm,
                r.numHeldTokens(),
                r.settleStep,
                r.loadFailures,
                blocks));
    }
}
