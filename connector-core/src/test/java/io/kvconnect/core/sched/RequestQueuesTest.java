package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.PrefixHit;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Known requests, the order of the waiting queue, and how a request finishes and is released. */
class RequestQueuesTest {
    private static SchedulerConfig priority() {
        SchedulerConfig c = Parts.config();
        return new SchedulerConfig(
                c.maxBatchedTokens(),
                c.maxRunningRequests(),
                c.longPrefillChunk(),
                SchedulingPolicy.PRIORITY,
                false,
                c.loadFailurePolicy());
    }

    private static List<String> waitingIds(Parts p) {
        return p.queues.waiting().stream().map(Request::requestId).toList();
    }

    @Test
    void fcfsQueuesInArrivalOrderAndPutsSkippedRequestsBackAtTheHead() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            p.arrive("a", 4, 1);
            p.arrive("b", 4, 1);
            Request c = p.request("c", 4, 1);

            p.queues.enqueueWaiting(c, true);

            assertEquals(List.of("c", "a", "b"), waitingIds(p));
            assertTrue(p.queues.contains("a") && !p.queues.contains("c"), "only arrivals are known");
        }
    }

    @Test
    void priorityQueuesByPriorityValueThenArrival() {
        try (Parts p = new Parts(priority(), 16, null)) {
            p.queues.arrive(p.request("low", Parts.prompt(4), 1, 5));
            p.queues.arrive(p.request("high", Parts.prompt(4), 1, 0));
            p.queues.arrive(p.request("high2", Parts.prompt(4), 1, 0));

            assertEquals(List.of("high", "high2", "low"), waitingIds(p));
        }
    }

    @Test
    void aFinishedRequestLeavesItsQueueIsReportedAndItsBlocksGoBack() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            Request r = p.arrive("r", 8, 4);
            p.queues.waiting().remove(r);
            p.queues.running().add(r);
            p.kv.allocate("r", 8, PrefixHit.NONE);
            r.appendOutputToken(7);

            p.queues.finish(r, RequestStatus.FINISHED_STOPPED, "ignored for a natural stop");

            assertEquals(List.of(), p.queues.running());
            assertEquals(Set.of("r"), p.queues.finishedSinceLastSchedule());
            RequestUpdate.Finished f =
                    (RequestUpdate.Finished) p.outbox.takeUpdates().getFirst();
            assertEquals(RequestStatus.FINISHED_STOPPED, f.status());
            assertEquals("", f.reason());
            assertArrayEquals(new int[] {7}, f.outputTokens());
            assertFalse(p.kv.owns("r"));
            assertNull(p.queues.get("r"), "released: the engine forgets it");
        }
    }

    @Test
    void anErrorKeepsItsFirstReasonAndAnAbortSaysSo() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            Request failed = p.arrive("failed", 4, 1);
            failed.fail("the first reason");
            p.queues.finish(failed, RequestStatus.FINISHED_ERROR, "a later reason");
            p.queues.finish(p.arrive("aborted", 4, 1), RequestStatus.FINISHED_ABORTED, "aborted");

            List<RequestUpdate> updates = p.outbox.takeUpdates();
            assertEquals("the first reason", ((RequestUpdate.Finished) updates.get(0)).reason());
            assertEquals("aborted", ((RequestUpdate.Finished) updates.get(1)).reason());
            assertEquals(1, p.stats.requestsFailed());
        }
    }

    @Test
    void aDelayedFreeKeepsTheBlocksUntilTheSendEnds() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.delayFree = true;
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            Request r = p.arrive("r", 8, 4);
            p.kv.allocate("r", 8, PrefixHit.NONE);

            p.queues.finish(r, RequestStatus.FINISHED_ABORTED, "aborted");

            assertEquals(List.of("requestFinished r"), connector.callsOf(ConnectorHook.REQUEST_FINISHED));
            assertTrue(p.transfers.awaitingSend("r"));
            assertSame(r, p.queues.get("r"), "still known while its blocks are held");
            assertTrue(p.kv.owns("r"));

            p.transfers.stopAwaitingSend("r");
            p.queues.releaseIfUnheld(r);
            assertFalse(p.kv.owns("r"));
            assertNull(p.queues.get("r"));
        }
    }

    @Test
    void aRequestFinishedWhileItsLoadIsInFlightKeepsItsBlocksForTheLoad() {
        ScriptedConnector connector = new ScriptedConnector();
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            Request r = p.arrive("r", 8, 4);
            p.kv.allocate("r", 8, PrefixHit.NONE);
            r.setStatus(RequestStatus.WAITING_FOR_REMOTE_KV);
            p.transfers.awaitReceive("r");

            p.queues.finish(r, RequestStatus.FINISHED_ABORTED, "aborted");

            assertTrue(p.transfers.awaitingReceive("r"), "the workers may still write the blocks");
            assertTrue(p.kv.owns("r"));
        }
    }

    @Test
    void finishingDropsHeldOutputs() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            Request r = p.arrive("r", 8, 4);
            p.held.hold(r, 8, 9);

            p.queues.finish(r, RequestStatus.FINISHED_ABORTED, "aborted");

            assertEquals(List.of(new HoldResolution("r", false)), p.outbox.takeResolutions());
        }
    }
}
