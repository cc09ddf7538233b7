package io.kvconnect.core.conformance;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.FinishedTransfers;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Forwards every hook, but first throws {@link InjectedFault} at the plan's rate, as a plugin with
 * a bug would. {@code registerKvCaches}, {@code handshakeMetadata} and {@code shutdown} never throw (start-up and tear-down
 * failures are tested with plugin loading). The worker's thread only.
 */
final class FaultyWorkerConnector implements WorkerConnector {
    private final WorkerConnector delegate;
    private final FaultInjector faults;

    FaultyWorkerConnector(WorkerConnector delegate, FaultInjector faults) {
        this.delegate = delegate;
        this.faults = faults;
    }

    private void maybeThrow(String hook) {
        if (faults.throwIn(hook)) {
            throw new InjectedFault(hook);
        }
    }

    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copies) {
        delegate.registerKvCaches(layout, copies);
    }

    @Override
    public Optional<WorkerMetadata> handshakeMetadata() {
        return delegate.handshakeMetadata();
    }

    @Override
    public void handlePreemptions(ConnectorMetadata metadata) {
        maybeThrow("handlePreemptions");
        delegate.handlePreemptions(metadata);
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        maybeThrow("bindConnectorMetadata");
        delegate.bindConnectorMetadata(metadata);
    }

    @Override
    public void startLoadKv() {
        maybeThrow("startLoadKv");
        delegate.startLoadKv();
    }

    @Override
    public void waitForLayerLoad(int layer) {
        maybeThrow("waitForLayerLoad");
        delegate.waitForLayerLoad(layer);
    }

    @Override
    public void saveKvLayer(int layer) {
        maybeThrow("saveKvLayer");
        delegate.saveKvLayer(layer);
    }

    @Override
    public void waitForSave() {
        maybeThrow("waitForSave");
        delegate.waitForSave();
    }

    @Override
    public FinishedTransfers getFinished(Set<String> finishedRequestIds) {
        maybeThrow("getFinished");
        return delegate.getFinished(finishedRequestIds);
    }

    @Override
    public Set<Integer> getBlockIdsWithLoadErrors() {
        maybeThrow("getBlockIdsWithLoadErrors");
        return delegate.getBlockIdsWithLoadErrors();
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        maybeThrow("takeStats");
        return delegate.takeStats();
    }

    @Override
    public List<KvEvent> takeEvents() {
        maybeThrow("takeEvents");
        return delegate.takeEvents();
    }

    @Override
    public Optional<WorkerMetadata> buildWorkerMetadata() {
        maybeThrow("buildWorkerMetadata");
        return delegate.buildWorkerMetadata();
    }

    @Override
    public void clearConnectorMetadata() {
        maybeThrow("clearConnectorMetadata");
        delegate.clearConnectorMetadata();
    }

    @Override
    public void shutdown() {
        delegate.shutdown();
    }
}
