package io.kvconnect.testkit;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.util.Optional;
import java.util.Set;

/**
 * Forwards every hook to one worker side and has the {@link ReportLedger} check each step report
 * on its way to the engine. Changes nothing. The worker's thread only.
 */
final class CheckingWorkerConnector implements WorkerConnector {
    private final WorkerConnector delegate;
    private final ReportLedger ledger;
    private final int rank;

    CheckingWorkerConnector(WorkerConnector delegate, ReportLedger ledger, int rank) {
        this.delegate = delegate;
        this.ledger = ledger;
        this.rank = rank;
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
        WorkerStepReport report = delegate.reportStep(finishedRequestIds);
        if (report != null) {
            ledger.check(rank, report);
        }
        return report;
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
