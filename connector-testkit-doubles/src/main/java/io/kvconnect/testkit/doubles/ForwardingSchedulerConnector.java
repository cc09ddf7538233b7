package io.kvconnect.testkit.doubles;

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
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A scheduler side that forwards every hook to another: extend it and override only the hooks a
 * test wants to watch, change or fail, instead of writing out all of them. Forwards the default
 * hooks too, so the delegate's own versions run.
 *
 * <p>Threads are the delegate's: the engine calls every hook on its engine thread.
 */
public abstract class ForwardingSchedulerConnector implements SchedulerConnector {
    private final SchedulerConnector delegate;

    /**
     * A scheduler side that forwards to {@code delegate}.
     *
     * @param delegate the scheduler side every hook goes to
     */
    protected ForwardingSchedulerConnector(SchedulerConnector delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /**
     * The scheduler side every hook goes to.
     *
     * @return the delegate
     */
    protected final SchedulerConnector delegate() {
        return delegate;
    }

    @Override
    public void bindSchedulerState(SchedulerState state) {
        delegate.bindSchedulerState(state);
    }

    @Override
    public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        delegate.setHandshakeMetadata(byRank);
    }

    @Override
    public void onNewRequest(RequestView request) {
        delegate.onNewRequest(request);
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        return delegate.getNumNewMatchedTokens(request, localHitTokens);
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        delegate.updateStateAfterAlloc(request, blocks, localHitTokens, externalTokens);
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
