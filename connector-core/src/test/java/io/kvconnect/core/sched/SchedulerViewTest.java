package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The read-only view: what connectors see, and what invariant checks read, live. */
class SchedulerViewTest {
    private static List<String> ids(List<RequestView> requests) {
        return requests.stream().map(RequestView::requestId).toList();
    }

    @Test
    void connectorsSeeTheQueuesTheRequestsAndTheStepLive() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            p.arrive("a", 6, 4);
            p.arrive("b", 6, 4);
            List<RequestView> waiting = p.view.waitingRequests();

            p.schedule();

            assertEquals(List.of(), ids(waiting), "the list read earlier is live");
            assertEquals(List.of("a", "b"), ids(p.view.runningRequests()));
            assertEquals(1, p.view.step());
            assertEquals(Parts.BLOCK, p.view.blockSize());
            assertSame(p.queues.get("a"), p.view.findRequest("a").orElseThrow());
            assertTrue(p.view.findRequest("nobody").isEmpty());
            assertSame(p.connectorView, p.view.gpuBlockPool());
        }
    }

    @Test
    void nothingCanBeChangedThroughIt() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            Request r = p.arrive("a", 6, 4);

            assertThrows(UnsupportedOperationException.class, () -> p.view.waitingRequests()
                    .clear());
            assertThrows(UnsupportedOperationException.class, () -> p.view.knownRequests()
                    .remove("a"));
            assertThrows(UnsupportedOperationException.class, () -> p.view.heldForSending()
                    .add("a"));
            assertEquals(List.of(r), p.queues.waiting());
        }
    }

    @Test
    void invariantChecksSeeWhatHoldsBlocksForTransfers() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            p.transfers.awaitSend("s");
            p.transfers.awaitReceive("r");
            p.transfers.fence("f", 3);
            p.transfers.loadFinished("done");

            assertEquals(Set.of("s"), p.view.heldForSending());
            assertEquals(Set.of("r"), p.view.heldForReceiving());
            assertTrue(p.view.isFenced("f"));
            assertEquals(Set.of("done"), p.view.finishedReceivingIds());
            assertEquals(Set.of(), p.view.failedReceivingIds());
        }
    }

    @Test
    void aRequestsStateIsASnapshotOfItsThreeCounts() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            p.arrive("r", 10, 4);
            p.schedule();

            SchedulerView.RequestState s = p.view.requestState("r").orElseThrow();

            assertEquals(RequestStatus.RUNNING, s.status());
            assertEquals(10, s.scheduledThrough());
            assertEquals(0, s.confirmed(), "nothing is confirmed before the step's output is applied");
            assertEquals(3, s.blocks().size());
            assertEquals(p.kv.blockAt("r", 0), s.blocks().getFirst());
            assertTrue(p.view.requestState("nobody").isEmpty());
        }
    }
}
