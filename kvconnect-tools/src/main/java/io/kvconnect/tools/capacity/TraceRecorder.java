package io.kvconnect.tools.capacity;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ResetResult;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A scheduler side that forwards every hook to the connector it wraps and records the tier's
 * accesses as a {@link TierTrace}: a {@link TierTrace.Lookup} at each admission (the {@code
 * updateStateAfterAlloc} that follows a {@code getNumNewMatchedTokens}: the prompt's full blocks
 * beyond the GPU hit, and how many of them the connector loaded), and a {@link TierTrace.Offer}
 * whenever a request's KV-confirmed full blocks grow ({@code buildConnectorMetadata}, and {@code
 * requestFinished} for the last ones) by blocks that request has not looked up.
 *
 * <p>Scheduler thread only, like the hooks it forwards. It only reads the views it is given, and
 * returns the wrapped connector's results unchanged, so the run is the same with or without it.
 */
public final class TraceRecorder implements SchedulerConnector {
    private final SchedulerConnector inner;
    private final int blockSize;
    private final List<TierTrace.Access> accesses = new ArrayList<>();
    /** Per request: the local hit of its last match, until its allocation. */
    private final Map<String, Integer> matched = new HashMap<>();
    /** Per request: the block indices already looked up or offered. */
    private final Map<String, BitSet> seen = new HashMap<>();

    /**
     * @param inner the scheduler side to forward to
     * @param blockSize the engine's tokens per block
     */
    public TraceRecorder(SchedulerConnector inner, int blockSize) {
        this.inner = inner;
        this.blockSize = blockSize;
    }

    /** The accesses so far, as a trace of a tier of {@code capacity} engine blocks (0: not known). */
    public TierTrace trace(int capacity) {
        return new TierTrace(blockSize, capacity, accesses);
    }

    @Override
    public void bindSchedulerState(SchedulerState state) {
        inner.bindSchedulerState(state);
    }

    @Override
    public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        inner.setHandshakeMetadata(byRank);
    }

    @Override
    public void onNewRequest(RequestView request) {
        inner.onNewRequest(request);
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        matched.put(request.requestId(), localHitTokens);
        return inner.getNumNewMatchedTokens(request, localHitTokens);
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        if (matched.remove(request.requestId()) != null) {
            int from = localHitTokens / blockSize;
            int to = request.numBlockHashes();
            BitSet s = seen.computeIfAbsent(request.requestId(), id -> new BitSet());
            long[] chain = new long[Math.max(0, to - from)];
            for (int i = from; i < to; i++) {
                chain[i - from] = request.blockHash(i).h0();
                s.set(i);
            }
            int loaded = Math.min(chain.length, Math.ceilDiv(externalTokens, blockSize));
            if (chain.length > 0) {
                accesses.add(new TierTrace.Lookup(chain, loaded));
            }
        }
        inner.updateStateAfterAlloc(request, blocks, localHitTokens, externalTokens);
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        for (ScheduledRequest sr : output.scheduledRequests()) {
            offerConfirmed(sr.request());
        }
        return inner.buildConnectorMetadata(output);
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        inner.updateConnectorOutput(output);
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        offerConfirmed(request);
        matched.remove(request.requestId());
        seen.remove(request.requestId());
        return inner.requestFinished(request, blockIds);
    }

    /** Offers the request's KV-confirmed full blocks it has neither looked up nor offered. */
    private void offerConfirmed(RequestView r) {
        int confirmed = Math.min(r.numComputedTokens() / blockSize, r.numBlockHashes());
        BitSet s = seen.computeIfAbsent(r.requestId(), id -> new BitSet());
        int first = s.nextClearBit(0);
        if (first >= confirmed) {
            return;
        }
        long[] blocks = new long[confirmed - first];
        int n = 0;
        for (int i = first; i < confirmed; i = s.nextClearBit(i + 1)) {
            blocks[n++] = r.blockHash(i).h0();
            s.set(i);
        }
        accesses.add(new TierTrace.Offer(n == blocks.length ? blocks : Arrays.copyOf(blocks, n)));
    }

    @Override
    public List<KvEvent> takeEvents() {
        return inner.takeEvents();
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        return inner.takeStats();
    }

    @Override
    public ResetResult resetCache() {
        return inner.resetCache();
    }

    @Override
    public OptionalInt expectedFinishedCount() {
        return inner.expectedFinishedCount();
    }

    @Override
    public boolean hasPendingWork() {
        return inner.hasPendingWork();
    }

    @Override
    public void shutdown() {
        inner.shutdown();
    }
}
