package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.PrefixHit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which running request gives its blocks up, and taking idle blocks back from waiting requests. */
class PreemptionTest {
    private static Request running(Parts p, String id, int priority) {
        Request r = p.request(id, Parts.prompt(8), 4, priority);
        p.queues.running().add(r);
        p.kv.allocate(id, 8, PrefixHit.NONE);
        r.setScheduledThrough(8);
        r.setStatus(RequestStatus.RUNNING);
        return r;
    }

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

    @Test
    void fcfsPreemptsTheLastAdmitted() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            running(p, "first", 0);
            Request last = running(p, "last", 0);

            assertSame(last, p.preemption.pickVictim());
        }
    }

    @Test
    void priorityPreemptsTheHighestValueAndAmongEqualsTheLatestArrival() {
        try (Parts p = new Parts(priority(), 16, null)) {
            running(p, "urgent", 0);
            running(p, "lax", 9);
            Request laxLater = running(p, "laxLater", 9);
            running(p, "urgentLater", 0);

            assertSame(laxLater, p.preemption.pickVictim());
        }
    }

    @Test
    void aPreemptedRequestGivesItsBlocksBackAndWaitsAtTheHeadToRecompute() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            p.clock.next();
            p.arrive("waiting", 4, 1);
            Request r = running(p, "r", 0);
            p.held.hold(r, 8, 3);

            p.preemption.preempt(r);

            assertFalse(p.kv.owns("r"));
            assertEquals(RequestStatus.PREEMPTED, r.status());
            assertEquals(0, r.scheduledThrough());
            assertEquals(1, r.numPreemptions());
            assertTrue(r.discards(1), "outputs of steps scheduled so far are stale");
            assertEquals(
                    List.of("r", "waiting"),
                    p.queues.waiting().stream().map(Request::requestId).toList());
            assertEquals(List.of(new HoldResolution("r", false)), p.outbox.takeResolutions());
            assertEquals(1, p.stats.preemptions());
        }
    }

    @Test
    void onlyAWaitingRequestWithoutALoadInFlightIsReclaimable() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            Request idle = p.arrive("idle", 8, 1);
            p.kv.allocate("idle", 8, PrefixHit.NONE);
            p.transfers.loadFinished("idle");
            p.arrive("loading", 8, 1);
            p.kv.allocate("loading", 8, PrefixHit.NONE);
            p.transfers.awaitReceive("loading");
            p.arrive("empty", 8, 1);

            assertSame(idle, p.preemption.reclaimableWaiting());
            assertTrue(p.preemption.loadInFlightInWaiting());

            p.preemption.reclaim(idle);

            assertFalse(p.kv.owns("idle"));
            assertFalse(p.transfers.takeFinishedLoad("idle"), "its load's outcome no longer applies");
            assertEquals(RequestStatus.PREEMPTED, idle.status());
            assertNull(p.preemption.reclaimableWaiting());
        }
    }
}
