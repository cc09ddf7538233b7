package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.core.kv.PrefixHit;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Admitting one waiting request: the local prefix hit, the connector's tokens beyond it, the
 * block layout, synchronous and asynchronous loads, and what a failed hook does.
 */
class AdmissionTest {
    private final StepEntries entries = new StepEntries();
    private final List<ScheduledWork> work = entries.work();

    /** Caches the first {@code tokens} prompt tokens (whole blocks), as a finished earlier request would. */
    private static void cachePrefix(Parts p, int tokens) {
        Request seed = p.request("seed", tokens, 1);
        p.kv.allocate("seed", tokens, PrefixHit.NONE);
        seed.setScheduledThrough(tokens);
        seed.confirmThrough(tokens);
        p.kv.cacheUpTo(seed, tokens);
        p.kv.free("seed");
    }

    /** Takes the head of the waiting queue and offers it, as the planner does. */
    private Admission.Result admitNext(Parts p, int budget) {
        return p.admission.admit(p.queues.waiting().removeFirst(), budget, entries);
    }

    @Test
    void aFreshRequestLoadsWhatTheConnectorHasBeyondTheLocalHitWithinTheStep() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(100);
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            cachePrefix(p, 12);
            p.clock.next();
            Request r = p.arrive("r", 20, 4);

            assertEquals(Admission.Result.SCHEDULED, admitNext(p, 64));

            // | local hit 12 | external 7 | new 1 |: the engine recomputes the last prompt token.
            ScheduledWork w = work.getFirst();
            assertEquals(19, w.start());
            assertEquals(1, w.numTokens());
            assertEquals(7, w.externalTokens());
            assertEquals(5, w.blockTable().length);
            assertEquals(ScheduledRequest.Kind.NEW, w.kind());
            assertEquals(12, r.numComputedTokens(), "only the local hit is confirmed");
            assertEquals(RequestStatus.RUNNING, r.status());
            assertEquals(List.of(r), p.queues.running());
            assertEquals(
                    List.of("updateStateAfterAlloc r 7"), connector.callsOf(ConnectorHook.UPDATE_STATE_AFTER_ALLOC));
            // The load may write the external range only, and may be reported failed one step late.
            int[] blocks = p.kv.blockIds("r");
            assertFalse(p.pool.grants().writable(blocks[2]));
            assertTrue(p.pool.grants().writable(blocks[3]) && p.pool.grants().writable(blocks[4]));
            assertEquals(2, r.settleStep);
            assertEquals(12, p.stats.prefixHits());
            assertEquals(7, p.stats.connectorHits());
        }
    }

    @Test
    void anAsynchronousLoadParksTheRequestUntilTheWorkersReportIt() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.async(8);
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            p.clock.next();
            Request r = p.arrive("r", 12, 4);

            assertEquals(Admission.Result.ASYNC_LOAD, admitNext(p, 64));

            assertEquals(RequestStatus.WAITING_FOR_REMOTE_KV, r.status());
            assertTrue(p.transfers.awaitingReceive("r"));
            assertEquals(8, r.scheduledThrough());
            assertEquals(0, r.numComputedTokens());
            assertEquals(List.of(), work, "it computes nothing in this step");
            assertEquals(
                    Admission.Result.SKIPPED,
                    p.admission.admit(r, 64, entries),
                    "offered again before its load finished");
        }
    }

    @Test
    void aFinishedAsynchronousLoadIsPromotedAndComputesTheRest() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.async(8);
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            p.clock.next();
            Request r = p.arrive("r", 12, 4);
            admitNext(p, 64);
            p.transfers.receiveReported("r");
            p.transfers.loadFinished("r");
            p.clock.applied(1);
            p.clock.next();

            assertEquals(Admission.Result.SCHEDULED, p.admission.admit(r, 64, entries));

            assertEquals(8, r.numComputedTokens(), "its settle step was applied: confirmed at once");
            assertEquals(8, work.getFirst().start());
            assertEquals(4, work.getFirst().numTokens());
            assertEquals(0, work.getFirst().externalTokens());
        }
    }

    @Test
    void aPromotedLoadThatMayStillBeReportedFailedIsHeldBack() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.async(8);
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            p.clock.next();
            Request r = p.arrive("r", 12, 4);
            admitNext(p, 64);
            p.transfers.loadFinished("r");
            r.settleStep = 3;
            p.clock.applied(2);

            p.admission.admit(r, 64, entries);

            assertEquals(0, r.numComputedTokens());
            assertEquals(8, r.heldConfirm);
            assertEquals(List.of(r), p.held.holdingRequests());
        }
    }

    @Test
    void aConnectorThatAsksToBeAskedLaterLeavesTheRequestWaiting() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.askLater();
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            p.arrive("r", 12, 4);

            assertEquals(Admission.Result.SKIPPED, admitNext(p, 64));

            assertFalse(p.kv.owns("r"));
        }
    }

    @Test
    void aThrowingLookupFailsTheRequestWithTheHookInTheReason() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.throwing.add(ConnectorHook.GET_NUM_NEW_MATCHED_TOKENS);
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            Request r = p.arrive("r", 12, 4);

            assertEquals(Admission.Result.FAILED, admitNext(p, 64));

            assertEquals(RequestStatus.FINISHED_ERROR, r.status());
            RequestUpdate.Finished f =
                    (RequestUpdate.Finished) p.outbox.takeUpdates().getFirst();
            assertTrue(f.reason().startsWith("connector 'scripted' failed in getNumNewMatchedTokens"), f.reason());
        }
    }

    @Test
    void aFailedAllocationNotificationFencesTheBlocksOfASynchronousLoadUntilItsStepRan() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(8);
        connector.throwing.add(ConnectorHook.UPDATE_STATE_AFTER_ALLOC);
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            p.clock.next();
            Request r = p.arrive("r", 12, 4);

            assertEquals(Admission.Result.FAILED, admitNext(p, 64));

            assertEquals(RequestStatus.FINISHED_ERROR, r.status());
            assertTrue(p.transfers.isFenced("r"), "the load may still be in this step's metadata");
            assertTrue(p.kv.owns("r"));
            assertEquals(List.of("r"), p.transfers.endFences(1));
        }
    }

    @Test
    void aFailedAllocationNotificationOfAnAsynchronousLoadWaitsForTheLoad() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.async(8);
        connector.throwing.add(ConnectorHook.UPDATE_STATE_AFTER_ALLOC);
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            Request r = p.arrive("r", 12, 4);

            assertEquals(Admission.Result.FAILED, admitNext(p, 64));

            assertEquals(RequestStatus.FINISHED_ERROR, r.status());
            assertTrue(p.transfers.awaitingReceive("r"), "the connector may already have planned the load");
            assertTrue(p.kv.owns("r"));
        }
    }

    @Test
    void withoutRoomNothingChangesAndTheRequestCanBeOfferedAgain() {
        try (Parts p = new Parts(Parts.config(), 2, null)) {
            Request r = p.arrive("r", 12, 4);

            assertEquals(Admission.Result.NO_SPACE, admitNext(p, 64));

            assertFalse(p.kv.owns("r"));
            assertEquals(0, r.scheduledThrough());
            assertEquals(RequestStatus.WAITING, r.status());
        }
    }

    @Test
    void theBudgetAndTheChunkLimitHowMuchOfThePromptRuns() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            p.arrive("r", 20, 4);

            assertEquals(Admission.Result.SCHEDULED, admitNext(p, 6));

            assertEquals(6, work.getFirst().numTokens());
            assertFalse(work.getFirst().samples(), "the prompt is not done yet");
            assertEquals(2, p.kv.numBlocks("r"), "blocks for what is scheduled only");
        }
    }

    @Test
    void afterAFailedLoadTheConnectorMayNotReachTheFailedBlockAgain() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(100);
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            Request r = p.arrive("r", 12, 4);
            r.recordLoadFailure(1);

            admitNext(p, 64);

            assertEquals(4, work.getFirst().externalTokens(), "only block 0 may be loaded");
            assertEquals(1, p.stats.loadsRefusedAfterFailure());
        }
    }
}
