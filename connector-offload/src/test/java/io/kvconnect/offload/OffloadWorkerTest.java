package io.kvconnect.offload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.testkit.doubles.ManualCopyService;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The worker side against a copy service whose copies finish (or fail) when the test says. */
class OffloadWorkerTest {
    /** Copies the test ends; a slot is one engine block of the tiny model (4 KiB). */
    private final ManualCopyService copies = new ManualCopyService(
            new KvLayout(OffloadConfigTest.TINY, 0, 1, 100, 16, 2048, LayoutKind.PER_LAYER, MemoryKind.HOST));

    private final OffloadWorker worker = new OffloadWorker(8, 1);

    private void step(OffloadMetadata m) {
        worker.handlePreemptions(m);
        worker.bindConnectorMetadata(m);
        worker.startLoadKv();
    }

    private JobReports end(Set<String> receivingExpected, Set<Integer> errorsExpected) {
        WorkerStepReport report = worker.reportStep(Set.of());
        assertEquals(receivingExpected, report.finishedReceiving());
        assertEquals(Set.of(), report.finishedSending());
        assertEquals(errorsExpected, report.invalidBlockIds());
        assertTrue(report.failure().isEmpty());
        worker.clearConnectorMetadata();
        return (JobReports) report.workerMetadata().orElse(new JobReports(Map.of(), Map.of()));
    }

    @Test
    void storesRunPastTheStepAndAreReportedWhenDone() {
        worker.registerKvCaches(copies.layout(), copies);
        assertEquals(List.of(8), copies.allocatedSlots());
        step(new OffloadMetadata(
                0,
                List.of(new OffloadMetadata.StoreJob(5, "a", new int[] {3, 4}, new int[] {0, 1})),
                List.of(),
                Set.of()));
        worker.waitForLayerLoad(0);
        worker.waitForSave();
        assertEquals(1, copies.tickets().size());
        assertTrue(copies.ticket(0).toHost());
        assertEquals(Map.of(), end(Set.of(), Set.of()).ok(), "not reported before the copy ends");
        step(OffloadMetadata.EMPTY);
        copies.ticket(0).complete();
        JobReports r = end(Set.of(), Set.of());
        assertEquals(Map.of(5L, 1L << 1), r.ok(), "rank 1's bit");
        // A failing store is reported failed.
        step(new OffloadMetadata(
                1, List.of(new OffloadMetadata.StoreJob(6, "a", new int[] {3}, new int[] {2})), List.of(), Set.of()));
        worker.waitForSave();
        copies.ticket(1).fail();
        assertEquals(Map.of(6L, 2L), end(Set.of(), Set.of()).failed());
        worker.shutdown();
        worker.shutdown();
        assertTrue(copies.allBuffersClosed());
    }

    @Test
    void aStoreWithoutAForwardPassStartsInGetFinished() {
        worker.registerKvCaches(copies.layout(), copies);
        step(new OffloadMetadata(
                0, List.of(new OffloadMetadata.StoreJob(5, "a", new int[] {3}, new int[] {0})), List.of(), Set.of()));
        end(Set.of(), Set.of());
        assertEquals(1, copies.tickets().size(), "started once");
    }

    @Test
    void preemptionFenceWaitsForTheStoresOfPreemptedRequests() throws InterruptedException {
        worker.registerKvCaches(copies.layout(), copies);
        step(new OffloadMetadata(
                0, List.of(new OffloadMetadata.StoreJob(5, "a", new int[] {3}, new int[] {0})), List.of(), Set.of()));
        worker.waitForSave();
        end(Set.of(), Set.of());
        ManualCopyService.Ticket t = copies.ticket(0);
        Thread finisher = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            t.complete();
        });
        worker.handlePreemptions(new OffloadMetadata(1, List.of(), List.of(), Set.of("a")));
        assertTrue(t.isDone(), "handlePreemptions returned only after a's copy ended");
        finisher.join(10_000);
    }

    @Test
    void loadsReportErrorsAndReceives() {
        worker.registerKvCaches(copies.layout(), copies);
        // Synchronous: awaited before layer 0; a failure is a load error of this step.
        step(new OffloadMetadata(
                0,
                List.of(),
                List.of(new OffloadMetadata.LoadJob(1, "s", false, new int[] {0}, new int[] {7}, false)),
                Set.of()));
        copies.ticket(0).fail();
        worker.waitForLayerLoad(0);
        assertEquals(Map.of(1L, 2L), end(Set.of(), Set.of(7)).failed());
        // Asynchronous: reported received when the copy ended, with its errors in the same step.
        step(new OffloadMetadata(
                1,
                List.of(),
                List.of(new OffloadMetadata.LoadJob(2, "x", true, new int[] {1, 2}, new int[] {8, 9}, false)),
                Set.of()));
        end(Set.of(), Set.of());
        copies.ticket(1).fail();
        step(OffloadMetadata.EMPTY);
        assertEquals(Map.of(2L, 2L), end(Set.of("x"), Set.of(8, 9)).failed());
        // Cancelled: nothing copied, reported received with every block failed.
        step(new OffloadMetadata(
                2,
                List.of(),
                List.of(new OffloadMetadata.LoadJob(3, "y", true, new int[1], new int[] {11}, true)),
                Set.of()));
        assertEquals(Map.of(3L, 2L), end(Set.of("y"), Set.of(11)).failed());
        assertEquals(2, copies.tickets().size());
        // A good asynchronous load.
        step(new OffloadMetadata(
                3,
                List.of(),
                List.of(new OffloadMetadata.LoadJob(4, "z", true, new int[] {3}, new int[] {12}, false)),
                Set.of()));
        copies.ticket(2).complete();
        assertEquals(Map.of(4L, 2L), end(Set.of("z"), Set.of()).ok());
    }
}
