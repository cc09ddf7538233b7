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
 * Forwards every hook, except that its {@code bindConnectorMetadata} throws once, at a given call,
 * without passing the metadata on: this rank loses that step's orders (its loads, stores and sends
 * never happen), as when a plugin's bind fails after the other ranks took theirs. The worker's
 * thread only.
 */
final class LostStepWorkerConnector implements WorkerConnector {
    private final WorkerConnector delegate;
    private final int failingCall;
    private int calls;

    /**
     * @param delegate the connector's worker side
     * @param failingCall the 1-based {@code bindConnectorMetadata} call that throws
     */
    LostStepWorkerConnector(WorkerConnector delegate, int failingCall) {
        this.delegate = delegate;
        this.failingCall = failingCall;
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
        delegate.handlePreemptions(metadata);
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        if (++calls == failingCall) {
            throw new InjectedFault("bindConnectorMetadata");
        }
        delegate.bindConnectorMetadata(metadata);
    }

    @Override
    public void startLoadKv() {
        delegate.startLoadKv();
    }

    @Override
    public void waitForLayerLoad(int layer) {
        delegate.waitForLayerLoad(layer);
    }

    @Override
    public void saveKvLayer(int layer) {
        delegate.saveKvLayer(layer);
    }

    @Override
    public void waitForSave() {
        delegate.waitForSave();
    }

    @Override
    public FinishedTransfers getFinished(Set<String> finishedRequestIds) {
        return delegate.getFinished(finishedRequestIds);
    }

    @Override
    public Set<Integer> getBlockIdsWithLoadErrors() {
        return delegate.getBlockIdsWithLoadErrors();
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        return delegate.takeStats();
    }

    @Override
    public List<KvEvent> takeEvents() {
        return delegate.takeEvents();
    }

    @Override
    public Optional<WorkerMetadata> buildWorkerMetadata() {
        return delegate.buildWorkerMetadata();
    }

    @Override
    public void clearConnectorMetadata() {
        delegate.clearConnectorMetadata();
    }

    @Override
    public void shutdown() {
        delegate.shutdown();
    }
}
