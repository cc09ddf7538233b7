package io.kvconnect.testkit;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ResetResult;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Forwards every hook to the connector under test and records what the contract promises about
 * the calls, so the kit can check the engine's side and the connector's answers: {@code
 * requestFinished} exactly once per request, external tokens never beyond the request.
 */
final class CountingSchedulerConnector implements SchedulerConnector {
    private final SchedulerConnector delegate;
    private final Map<String, Integer> added = new HashMap<>();
    private final Map<String, Integer> finished = new HashMap<>();
    private final Map<String, Integer> loads = new HashMap<>();
    private final List<String> problems = new ArrayList<>();

    CountingSchedulerConnector(SchedulerConnector delegate) {
        this.delegate = delegate;
    }

    List<String> problems() {
        List<String> all = new ArrayList<>(problems);
        for (String id : added.keySet()) {
            int n = finished.getOrDefault(id, 0);
            if (n != 1) {
                all.add("requestFinished was called " + n + " time(s) for request " + id);
            }
        }
        return all;
    }

    @Override
    public void bindSchedulerState(SchedulerState state) {
        delegate.bindSchedulerState(state);
    }

    @Override
    public void onNewRequest(RequestView request) {
        added.merge(request.requestId(), 1, Integer::sum);
        delegate.onNewRequest(request);
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        MatchResult r = delegate.getNumNewMatchedTokens(request, localHitTokens);
        if (r instanceof MatchResult.Tokens t && t.count() > request.numTokens() - localHitTokens) {
            problems.add("getNumNewMatchedTokens offered " + t.count() + " tokens for request "
                    + request.requestId() + ", more than the " + (request.numTokens() - localHitTokens)
                    + " beyond its local hit");
        }
        return r;
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int externalTokens) {
        if (externalTokens > 0) {
            loads.merge(request.requestId(), 1, Integer::sum);
        }
        delegate.updateStateAfterAlloc(request, blocks, externalTokens);
    }

    /** The most external loads the engine granted one request (0 if none). */
    int maxLoadsPerRequest() {
        return loads.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        return delegate.buildConnectorMetadata(output);
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        delegate.updateConnectorOutput(output);
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        finished.merge(request.requestId(), 1, Integer::sum);
        return delegate.requestFinished(request, blockIds);
    }

    @Override
    public List<KvEvent> takeEvents() {
        return delegate.takeEvents();
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        return delegate.takeStats();
    }

    @Override
    public ResetResult resetCache() {
        return delegate.resetCache();
    }

    @Override
    public void setHandshakeMetadata(java.util.Map<Integer, io.kvconnect.api.common.WorkerMetadata> byRank) {
        delegate.setHandshakeMetadata(byRank);
    }

    @Override
    public OptionalInt expectedFinishedCount() {
        return delegate.expectedFinishedCount();
    }

    @Override
    public boolean hasPendingWork() {
        return delegate.hasPendingWork();
    }

    @Override
    public void shutdown() {
        delegate.shutdown();
    }
}
