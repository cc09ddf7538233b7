package io.kvconnect.testkit;

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
 * Forwards every hook, but first throws {@link InjectedFault} where its {@link FaultInjector} says
 * (at the plan's rate, or once at a given call), as a plugin with a bug would. {@code registerKvCaches}, {@code handshakeMetadata} and {@code shutdown} never throw (start-up and tear-down
 * failures are tested with plugin loading). At the plan's late-report rate, the failed loads the
 * connector reports are held back and reported with the next step's. The worker's thread only.
 */
final class FaultyWorkerConnector implements WorkerConnector {
    private final WorkerConnector delegate;
    private final FaultInjector faults;
    /** Failed loads held back from the last report, reported with the next one. */
    private Set<Integer> heldErrors = Set.of();

    FaultyWorkerConnector(WorkerConnector delegate, FaultInjector faults) {
        this.delegate = delegate;
        this.faults = faults;
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
        faults.maybeThrowIn("handlePreemptions");
        delegate.handlePreemptions(metadata);
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        faults.maybeThrowIn("bindConnectorMetadata");
        delegate.bindConnectorMetadata(metadata);
    }

    @Override
    public void startLoadKv() {
        faults.maybeThrowIn("startLoadKv");
        delegate.startLoadKv();
    }

    @Override
    public void waitForLayerLoad(int layer) {
        faults.maybeThrowIn("waitForLayerLoad");
        delegate.waitForLayerLoad(layer);
    }

    @Override
    public void saveKvLayer(int layer) {
        faults.maybeThrowIn("saveKvLayer");
        delegate.saveKvLayer(layer);
    }

    @Override
    public void waitForSave() {
        faults.maybeThrowIn("waitForSave");
        delegate.waitForSave();
    }

    @Override
    public FinishedTransfers getFinished(Set<String> finishedRequestIds) {
        faults.maybeThrowIn("getFinished");
        return delegate.getFinished(finishedRequestIds);
    }

    @Override
    public Set<Integer> getBlockIdsWithLoadErrors() {
        faults.maybeThrowIn("getBlockIdsWithLoadErrors");
        Set<Integer> now = delegate.getBlockIdsWithLoadErrors();
        Set<Integer> due = heldErrors;
        heldErrors = Set.of();
        if (!now.isEmpty() && faults.delayErrorReport()) {
            heldErrors = now;
            return due;
        }
        if (due.isEmpty()) {
            return now;
        }
        Set<Integer> both = new java.util.HashSet<>(due);
        both.addAll(now);
        return both;
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        faults.maybeThrowIn("takeStats");
        return delegate.takeStats();
    }

    @Override
    public List<KvEvent> takeEvents() {
        faults.maybeThrowIn("takeEvents");
        return delegate.takeEvents();
    }

    @Override
    public Optional<WorkerMetadata> buildWorkerMetadata() {
        faults.maybeThrowIn("buildWorkerMetadata");
        return delegate.buildWorkerMetadata();
    }

    @Override
    public void clearConnectorMetadata() {
        faults.maybeThrowIn("clearConnectorMetadata");
        delegate.clearConnectorMetadata();
    }

    @Override
    public void shutdown() {
        delegate.shutdown();
    }
}
