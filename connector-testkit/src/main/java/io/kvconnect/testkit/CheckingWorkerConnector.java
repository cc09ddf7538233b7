package io.kvconnect.testkit;

import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.testkit.doubles.ForwardingWorkerConnector;
import java.util.Set;

/**
 * Forwards every hook to one worker side and has the {@link ReportLedger} check each step report
 * on its way to the engine. Changes nothing. The worker's thread only.
 */
final class CheckingWorkerConnector extends ForwardingWorkerConnector {
    private final ReportLedger ledger;
    private final int rank;

    CheckingWorkerConnector(WorkerConnector delegate, ReportLedger ledger, int rank) {
        super(delegate);
        this.ledger = ledger;
        this.rank = rank;
    }

    @Override
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        WorkerStepReport report = delegate().reportStep(finishedRequestIds);
        if (report != null) {
            ledger.check(rank, report);
        }
        return report;
    }
}
