package io.kvconnect.testkit;

import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.testkit.doubles.ForwardingWorkerConnector;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Forwards every hook to one worker side and has the {@link ReportLedger} check each step report
 * on its way to the engine, and counts the host slots the connector reuses (rank 0 only, through
 * {@link SlotCountingCopyService}). Changes nothing. The worker's thread only.
 */
final class CheckingWorkerConnector extends ForwardingWorkerConnector {
    private final ReportLedger ledger;
    private final int rank;
    private final AtomicLong slotReuses;

    CheckingWorkerConnector(WorkerConnector delegate, ReportLedger ledger, int rank, AtomicLong slotReuses) {
        super(delegate);
        this.ledger = ledger;
        this.rank = rank;
        this.slotReuses = slotReuses;
    }

    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copies) {
        delegate().registerKvCaches(layout, rank == 0 ? new SlotCountingCopyService(copies, slotReuses) : copies);
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
