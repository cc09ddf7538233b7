package io.kvconnect.testkit;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import io.kvconnect.testkit.doubles.ForwardingSchedulerConnector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Forwards every hook to the connector under test and records what the contract promises about
 * the calls, so the kit can check the engine's side and the connector's answers: {@code
 * requestFinished} exactly once per request, external tokens never beyond the request. It also
 * records in the {@link ReportLedger} the asynchronous loads the engine granted and the frees the
 * connector delayed, against which the workers' step reports are checked.
 *
 * <p>It also records what the kit compares with the connector's own account: the external tokens
 * the engine granted each request, the KV events the connector published (stored blocks must be
 * blocks the engine hashed and, in total, no more than the workers copied out), and the GPU blocks
 * the connector kept past their request's end. The scheduler thread only.
 */
final class CountingSchedulerConnector extends ForwardingSchedulerConnector {
    private final ReportLedger ledger;
    /** Requests whose last {@code getNumNewMatchedTokens} answer was an asynchronous load. */
    private final Set<String> asyncAnswers = new HashSet<>();

    private final Map<String, Integer> added = new HashMap<>();
    private final Map<String, Integer> finished = new HashMap<>();
    private final Map<String, Integer> loads = new HashMap<>();
    private final List<String> problems = new ArrayList<>();
    private final Map<String, Integer> grantedTokens = new HashMap<>();
    private long totalGrantedTokens;
    /** Every block hash the engine showed the connector, so a stored-block event can be checked. */
    private final Set<BlockHash> knownHashes = new HashSet<>();

    private final int engineBlockSize;
    private long storedEventBlocks;
    private long removedEventBlocks;
    private long blocksHeldPastEnd;
    private final Set<BlockHash> unknownStored = new HashSet<>();
    private GPUBlockPoolView pool;

    CountingSchedulerConnector(SchedulerConnector delegate, ReportLedger ledger, int engineBlockSize) {
        super(delegate);
        this.ledger = ledger;
        this.engineBlockSize = engineBlockSize;
    }

    @Override
    public void bindSchedulerState(SchedulerState state) {
        this.pool = state.gpuBlockPool();
        delegate().bindSchedulerState(state);
    }

    /** External tokens the engine granted {@code requestId} in total (0 if none). */
    int grantedTokens(String requestId) {
        return grantedTokens.getOrDefault(requestId, 0);
    }

    /** External tokens the engine granted all requests. */
    long totalGrantedTokens() {
        return totalGrantedTokens;
    }

    /** Engine blocks the connector's stored-block events announced (hashes times their size in engine blocks). */
    long storedEventBlocks() {
        return storedEventBlocks;
    }

    /** Blocks the connector's removed-block events announced: its evictions. */
    long removedEventBlocks() {
        return removedEventBlocks;
    }

    /** GPU blocks the connector still held (a reference or a delayed free) when their request ended. */
    long blocksHeldPastEnd() {
        return blocksHeldPastEnd;
    }

    /** Hashes of stored-block events that name no block the engine ever hashed. */
    Set<BlockHash> unknownStoredHashes() {
        return unknownStored;
    }

    private void learn(RequestView request) {
        knownHashes.addAll(request.blockHashes());
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        for (ScheduledRequest sr : output.scheduledRequests()) {
            learn(sr.request());
        }
        return delegate().buildConnectorMetadata(output);
    }

    @Override
    public List<KvEvent> takeEvents() {
        List<KvEvent> events = delegate().takeEvents();
        if (events == null) {
            return events;
        }
        for (KvEvent e : events) {
            if (e instanceof KvEvent.BlockStored s) {
                storedEventBlocks += (long) s.blockHashes().size() * Math.max(1, s.blockSize() / engineBlockSize);
                for (BlockHash h : s.blockHashes()) {
                    if (!knownHashes.contains(h) && unknownStored.size() < 1_000) {
                        unknownStored.add(h);
                    }
                }
            } else if (e instanceof KvEvent.BlockRemoved r) {
                removedEventBlocks += r.blockHashes().size();
            }
        }
        return events;
    }

    List<String> problems() {
        List<String> all = new ArrayList<>(problems);
        all.addAll(ledger.problems());
        for (String id : added.keySet()) {
            int n = finished.getOrDefault(id, 0);
            if (n != 1) {
                all.add("requestFinished was called " + n + " time(s) for request " + id);
            }
        }
        return all;
    }

    @Override
    public void onNewRequest(RequestView request) {
        added.merge(request.requestId(), 1, Integer::sum);
        delegate().onNewRequest(request);
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        asyncAnswers.remove(request.requestId());
        learn(request);
        MatchResult r = delegate().getNumNewMatchedTokens(request, localHitTokens);
        if (r instanceof MatchResult.Tokens t && t.async()) {
            asyncAnswers.add(request.requestId());
        }
        if (r instanceof MatchResult.Tokens t && t.count() > request.numTokens() - localHitTokens) {
            problems.add("getNumNewMatchedTokens offered " + t.count() + " tokens for request "
                    + request.requestId() + ", more than the " + (request.numTokens() - localHitTokens)
                    + " beyond its local hit");
        }
        return r;
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        if (externalTokens > 0) {
            loads.merge(request.requestId(), 1, Integer::sum);
            grantedTokens.merge(request.requestId(), externalTokens, Integer::sum);
            totalGrantedTokens += externalTokens;
            if (asyncAnswers.contains(request.requestId())) {
                // Recorded before the connector hears of it: it must report the load even if it throws.
                ledger.asyncLoadGranted(request.requestId());
            }
        }
        asyncAnswers.remove(request.requestId());
        delegate().updateStateAfterAlloc(request, blocks, localHitTokens, externalTokens);
    }

    /** The most external loads the engine granted one request (0 if none). */
    int maxLoadsPerRequest() {
        return loads.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        finished.merge(request.requestId(), 1, Integer::sum);
        asyncAnswers.remove(request.requestId());
        learn(request);
        FinishResult result = delegate().requestFinished(request, blockIds);
        if (result != null && result.delayFree()) {
            ledger.freeDelayed(request.requestId());
            blocksHeldPastEnd += blockIds.size();
        } else if (pool != null) {
            for (int i = 0; i < blockIds.size(); i++) {
                if (pool.heldReferences(blockIds.get(i)) > 0) {
                    blocksHeldPastEnd++;
                }
            }
        }
        return result;
    }

    @Override
    public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        delegate().setHandshakeMetadata(byRank);
    }
}
