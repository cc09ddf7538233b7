package io.kvconnect.testkit;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.testkit.doubles.ForwardingWorkerConnector;
import java.util.HashSet;
import java.util.Set;

/**
 * Forwards every hook, but first throws {@link InjectedFault} where its {@link FaultInjector} says
 * (at the plan's rate, or once at a given call), as a plugin with a bug would. {@code
 * registerKvCaches}, {@code handshakeMetadata} and {@code shutdown} never throw (start-up and
 * tear-down failures are tested with plugin loading). At the plan's late-report rate, the failed
 * loads the connector reports are held back and reported with the next step's. The worker's
 * thread only.
 */
final class FaultyWorkerConnector extends ForwardingWorkerConnector {
    private final FaultInjector faults;
    /** Failed loads held back from the last report, reported with the next one. */
    private Set<Integer> heldErrors = Set.of();

    FaultyWorkerConnector(WorkerConnector delegate, FaultInjector faults) {
        super(delegate);
        this.faults = faults;
    }

    @Override
    public void handlePreemptions(ConnectorMetadata metadata) {
        faults.maybeThrowIn("handlePreemptions");
        delegate().handlePreemptions(metadata);
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        faults.maybeThrowIn("bindConnectorMetadata");
        delegate().bindConnectorMetadata(metadata);
    }

    @Override
    public void startLoadKv() {
        faults.maybeThrowIn("startLoadKv");
        delegate().startLoadKv();
    }

    @Override
    public void waitForLayerLoad(int layer) {
        faults.maybeThrowIn("waitForLayerLoad");
        delegate().waitForLayerLoad(layer);
    }

    @Override
    public void saveKvLayer(int layer) {
        faults.maybeThrowIn("saveKvLayer");
        delegate().saveKvLayer(layer);
    }

    @Override
    public void waitForSave() {
        faults.maybeThrowIn("waitForSave");
        delegate().waitForSave();
    }

    /**
     * Throws before the connector reports, at the plan's rate; otherwise, at the late-report rate,
     * holds this report's failed-load blocks back and adds them to the next report.
     */
    @Override
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        faults.maybeThrowIn("reportStep");
        WorkerStepReport now = delegate().reportStep(finishedRequestIds);
        Set<Integer> due = heldErrors;
        heldErrors = Set.of();
        if (!now.invalidBlockIds().isEmpty() && faults.delayErrorReport()) {
            heldErrors = now.invalidBlockIds();
            return withInvalid(now, due);
        }
        if (due.isEmpty()) {
            return now;
        }
        Set<Integer> both = new HashSet<>(due);
        both.addAll(now.invalidBlockIds());
        return withInvalid(now, both);
    }

    private static WorkerStepReport withInvalid(WorkerStepReport r, Set<Integer> invalid) {
        return new WorkerStepReport(
                r.finishedSending(),
                r.finishedReceiving(),
                invalid,
                r.stats(),
                r.events(),
                r.workerMetadata(),
                r.failure());
    }

    @Override
    public void clearConnectorMetadata() {
        faults.maybeThrowIn("clearConnectorMetadata");
        delegate().clearConnectorMetadata();
    }
}
