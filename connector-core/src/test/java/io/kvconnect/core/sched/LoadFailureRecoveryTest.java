package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.PrefixHit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What a failed load does: the eviction rule spreading through shared blocks, the two policies,
 * late reports, loads broken by worker hooks, loads given up, and the bound on loading again.
 */
class LoadFailureRecoveryTest {
    private static Map<String, Integer> tokens(SchedulerOutput out) {
        Map<String, Integer> tokens = new HashMap<>();
        for (ScheduledWork w : out.work()) {
            if (w.samples()) {
                tokens.put(w.requestId(), 9);
            }
        }
        return tokens;
    }

    /** Runs one step of whatever is waiting or running and applies it. */
    private static SchedulerOutput step(Parts p) {
        SchedulerOutput out = p.schedule();
        p.applier.apply(out, StepResult.tokensOnly(tokens(out)));
        return out;
    }

    private static SchedulerConfig policy(LoadFailurePolicy policy) {
        return Parts.config().withLoadFailurePolicy(policy);
    }

    @Test
    void aFailedBlockTaintsEveryLaterBlockOfEveryRequestSharingItAndTheyRecompute() {
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, null)) {
            Request a = p.arrive("a", 12, 4);
            step(p);
            Request sharer = p.arrive("sharer", 16, 4);
            step(p);
            int[] aBlocks = p.kv.blockIds("a");
            int[] sharerBlocks = p.kv.blockIds("sharer");
            assertEquals(aBlocks[1], sharerBlocks[1], "sharer hit a's blocks in the prefix cache");

            Set<String> affected = p.recovery.invalidBlocksReported(Set.of(aBlocks[1]), p.schedule());

            assertEquals(Set.of("a", "sharer"), affected);
            for (Request r : List.of(a, sharer)) {
                assertEquals(Parts.BLOCK, r.scheduledThrough(), r.requestId() + " recomputes from block 1");
                assertEquals(Parts.BLOCK, r.numComputedTokens());
                assertEquals(1, r.loadFailures);
                assertFalse(r.status().isFinished());
            }
            assertTrue(p.pool.cachedHash(aBlocks[0]).isPresent(), "the block before the failure stays cached");
            for (int b : new int[] {aBlocks[1], aBlocks[2], sharerBlocks[3]}) {
                assertTrue(p.pool.cachedHash(b).isEmpty(), "block " + b + " left the prefix cache");
            }
            assertEquals(2, p.stats.requestsRecomputed());
            assertEquals(1, p.stats.lateLoadFailureReports(), "tokens from the failed block were already out");
        }
    }

    @Test
    void underPolicyFailAnAffectedRequestFailsNamingTheBlock() {
        try (Parts p = new Parts(policy(LoadFailurePolicy.FAIL), 16, null)) {
            Request a = p.arrive("a", 12, 4);
            step(p);
            int bad = p.kv.blockIds("a")[2];

            p.recovery.invalidBlocksReported(Set.of(bad), p.schedule());

            assertEquals(RequestStatus.FINISHED_ERROR, a.status());
            RequestUpdate.Finished f =
                    (RequestUpdate.Finished) p.outbox.takeUpdates().getLast();
            assertEquals("KV load failed for block " + bad + " (policy fail)", f.reason());
        }
    }

    @Test
    void aReportWithinTheWindowDropsHeldOutputsAndIsNotLate() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(8);
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, connector)) {
            Request r = p.arrive("r", 12, 4);
            step(p);
            assertTrue(r.holdsOutputs());

            p.recovery.invalidBlocksReported(Set.of(p.kv.blockIds("r")[0]), p.schedule());

            assertFalse(r.holdsOutputs());
            assertEquals(List.of(new HoldResolution("r", false)), p.outbox.takeResolutions());
            assertEquals(0, p.stats.lateLoadFailureReports());
            assertEquals(0, r.scheduledThrough());
        }
    }

    @Test
    void aLoadInFlightThatFailsIsPromotedTruncatedLater() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.async(8);
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, connector)) {
            Request r = p.arrive("r", 12, 4);
            step(p);

            p.recovery.invalidBlocksReported(Set.of(p.kv.blockIds("r")[1]), p.schedule());

            assertEquals(RequestStatus.WAITING_FOR_REMOTE_KV, r.status(), "its load is still in flight");
            assertEquals(Parts.BLOCK, r.scheduledThrough());
            assertTrue(p.transfers.takeFailedLoad("r"));
        }
    }

    @Test
    void blockIdsOutsideThePoolAreIgnored() {
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, null)) {
            p.arrive("a", 12, 4);
            step(p);

            assertEquals(Set.of(), p.recovery.invalidBlocksReported(Set.of(0, -3, 999), p.schedule()));
            assertEquals(0, p.stats.loadFailures());
        }
    }

    @Test
    void aHookThatMayHaveBrokenLoadsFailsEveryRequestThatLoadedInTheStep() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> r.requestId().equals("sync")
                ? MatchResult.sync(8)
                : r.requestId().equals("async") ? MatchResult.async(8) : MatchResult.none();
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, connector)) {
            Request sync = p.arrive("sync", 12, 4);
            Request async = p.arrive("async", 12, 4);
            Request plain = p.arrive("plain", 6, 4);
            SchedulerOutput out = p.schedule();
            HookFailure failure =
                    new HookFailure(1, ConnectorHook.BIND_CONNECTOR_METADATA, new IllegalStateException());

            p.recovery.loadsBrokenByWorkerHooks(
                    out,
                    Set.of(),
                    List.of(new HookFailure(0, ConnectorHook.SAVE_KV_LAYER, new IllegalStateException()), failure));

            assertEquals(RequestStatus.FINISHED_ERROR, sync.status());
            assertEquals(RequestStatus.FINISHED_ERROR, async.status(), "its orders were in the lost metadata");
            assertFalse(plain.status().isFinished());
            for (RequestUpdate u : p.outbox.takeUpdates()) {
                assertEquals(failure.toString(), ((RequestUpdate.Finished) u).reason(), "the first affecting failure");
            }
        }
    }

    @Test
    void hooksThatCannotBreakLoadsFailNothing() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(8);
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, connector)) {
            Request r = p.arrive("r", 12, 4);
            SchedulerOutput out = p.schedule();

            p.recovery.loadsBrokenByWorkerHooks(
                    out,
                    Set.of("r"),
                    List.of(new HookFailure(0, ConnectorHook.WAIT_FOR_SAVE, new IllegalStateException())));

            assertFalse(r.status().isFinished());
        }
    }

    /** A request whose asynchronous load of 8 tokens is in flight, in step 2. */
    private static Request loading(Parts p) {
        p.clock.next();
        p.clock.next();
        Request r = p.arrive("r", 12, 4);
        p.kv.allocate("r", 8, PrefixHit.NONE);
        r.setScheduledThrough(8);
        r.setStatus(RequestStatus.WAITING_FOR_REMOTE_KV);
        return r;
    }

    @Test
    void underPolicyFailALoadGivenUpFailsTheRequest() {
        try (Parts p = new Parts(policy(LoadFailurePolicy.FAIL), 16, null)) {
            Request r = loading(p);

            p.recovery.loadGivenUp(r, "did not finish loading");

            assertEquals(RequestStatus.FINISHED_ERROR, r.status());
            RequestUpdate.Finished f =
                    (RequestUpdate.Finished) p.outbox.takeUpdates().getFirst();
            assertEquals("did not finish loading", f.reason());
            assertEquals(1, r.loadFailures);
            assertEquals(1, p.stats.loadFailures());
        }
    }

    @Test
    void underPolicyRecomputeALoadGivenUpStartsOverWithoutTheConnectorsBlocks() {
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, null)) {
            Request r = loading(p);

            p.recovery.loadGivenUp(r, "did not finish loading");

            assertEquals(RequestStatus.WAITING, r.status());
            assertEquals(0, r.scheduledThrough());
            assertFalse(p.kv.owns("r"));
            assertTrue(r.discards(1) && !r.discards(2), "steps before this one are stale; this one may admit it");
            assertEquals(0, p.recovery.loadAllowance(r, 0, 8), "it may not load the blocks it never got");
            assertEquals(1, p.stats.requestsRecomputed());
        }
    }

    @Test
    void afterAFailureOneMoreLoadIsAllowedBelowTheFailedBlockThenNone() {
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, null)) {
            Request r = p.request("r", 20, 4);
            assertEquals(16, p.recovery.loadAllowance(r, 0, 16), "no failure yet: all that is offered");

            r.recordLoadFailure(2);
            assertEquals(4, p.recovery.loadAllowance(r, 4, 16), "up to block 2, beyond the 4 local tokens");

            r.recordLoadFailure(3);
            assertEquals(0, p.recovery.loadAllowance(r, 0, 16), "a second failure: no more loads");
            assertEquals(2, p.stats.loadsRefusedAfterFailure());
        }
    }
}
