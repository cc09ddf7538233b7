package io.kvconnect.testkit;

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
import io.kvconnect.testkit.doubles.ForwardingSchedulerConnector;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Forwards every hook, but first throws {@link InjectedFault} at the plan's rate, as a plugin with
 * a bug would. Set-up and tear-down hooks ({@code bindSchedulerState}, {@code setHandshakeMetadata},
 * {@code expectedFinishedCount}, {@code shutdown}) never throw: their failures are start-up errors, tested
 * with plugin loading. Scheduler thread only.
 */
final class FaultySchedulerConnector extends ForwardingSchedulerConnector {
    private final FaultInjector faults;

    FaultySchedulerConnector(SchedulerConnector delegate, FaultInjector faults) {
        super(delegate);
        this.faults = faults;
    }

    @Override
    public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        delegate().setHandshakeMetadata(byRank);
    }

    @Override
    public void onNewRequest(RequestView request) {
        faults.maybeThrowIn("onNewRequest");
        delegate().onNewRequest(request);
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        faults.maybeThrowIn("getNumNewMatchedTokens");
        return delegate().getNumNewMatchedTokens(request, localHitTokens);
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        faults.maybeThrowIn("updateStateAfterAlloc");
        delegate().updateStateAfterAlloc(request, blocks, localHitTokens, externalTokens);
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        faults.maybeThrowIn("buildConnectorMetadata");
        return delegate().buildConnectorMetadata(output);
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        faults.maybeThrowIn("updateConnectorOutput");
        delegate().updateConnectorOutput(output);
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        faults.maybeThrowIn("requestFinished");
        return delegate().requestFinished(request, blockIds);
    }

    @Override
    public List<KvEvent> takeEvents() {
        faults.maybeThrowIn("takeEvents");
        return delegate().takeEvents();
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        faults.maybeThrowIn("takeStats");
        return delegate().takeStats();
    }

    @Override
    public ResetResult resetCache() {
        faults.maybeThrowIn("resetCache");
        return delegate().resetCache();
    }

    @Override
    public boolean hasPendingWork() {
        faults.maybeThrowIn("hasPendingWork");
        return delegate().hasPendingWork();
    }
}
