package io.kvconnect.testkit.doubles;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A worker side that forwards every hook to another: extend it and override only the hooks a test
 * wants to watch, change or fail, instead of writing out all of them. Forwards the default hooks
 * too, so the delegate's own versions run.
 *
 * <p>Threads are the delegate's: each hook runs on the thread the engine calls it on.
 */
public abstract class ForwardingWorkerConnector implements WorkerConnector {
    private final WorkerConnector delegate;

    /**
     * A worker side that forwards to {@code delegate}.
     *
     * @param delegate the worker side every hook goes to
     */
    protected ForwardingWorkerConnector(WorkerConnector delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /**
     * The worker side every hook goes to.
     *
     * @return the delegate
     */
    protected final WorkerConnector delegate() {
        return delegate;
    }

    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copies) {
        delegate.registerKvCaches(layout, copies);
    }

    @Override
    public Optional<HandshakeMetadata> handshakeMetadata() {
        return delegate.handshakeMetadata();
    }

    @Override
    public void handlePreemptions(ConnectorMetadata metadata) {
        delegate.handlePreemptions(metadata);
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
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
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        return delegate.reportStep(finishedRequestIds);
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
