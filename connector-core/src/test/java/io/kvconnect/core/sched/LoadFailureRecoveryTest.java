package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.PrefixHit;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

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
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> r.requestId().equals("a") ? MatchResult.sync(8) : MatchResult.none();
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, connector)) {
            Request a = p.arrive("a", 12, 4);
            step(p);
            step(p); // settles a's load: its blocks are confirmed and cached
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
            assertEquals(0, p.stats.ignoredInvalidBlocks(), "a late report while the loader holds its blocks");
        }
    }

    @Test
    void aReportAfterTheLoaderFinishedBlamesNobodyAndDropsItsIdleBlocksFromThePrefixCache() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> r.requestId().equals("a") ? MatchResult.sync(8) : MatchResult.none();
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, connector)) {
            Request a = p.arrive("a", 12, 2);
            step(p);
            int[] aBlocks = p.kv.blockIds("a");
            for (int i = 0; i < 8 && !a.status().isFinished(); i++) {
                step(p);
            }
            assertTrue(a.status().isFinished(), "the loader finished");
            assertTrue(p.pool.cachedHash(aBlocks[1]).isPresent(), "its loaded block stays in the prefix cache");
            assertEquals(0, p.pool.refCount(aBlocks[1]), "and nobody holds it");

            Set<String> affected = p.recovery.invalidBlocksReported(Set.of(aBlocks[1]), p.schedule());

            assertEquals(Set.of(), affected, "nobody is blamed");
            assertEquals(1, p.stats.ignoredInvalidBlocks());
            assertEquals(1, p.stats.ignoredInvalidBlocksUncached());
            assertTrue(p.pool.cachedHash(aBlocks[1]).isEmpty(), "a later request cannot hit it");
            assertTrue(p.pool.cachedHash(aBlocks[0]).isPresent(), "the block not reported stays cached");
            assertEquals(0, p.stats.loadFailures());
        }
    }

    @Test
    void underPolicyFailAnAffectedRequestFailsNamingTheBlock() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(8);
        try (Parts p = new Parts(policy(LoadFailurePolicy.FAIL), 16, connector)) {
            Request a = p.arrive("a", 12, 4);
            step(p);
            int bad = p.kv.blockIds("a")[1];

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
            assertEquals(0, p.stats.ignoredInvalidBlocks());
            assertEquals(0, r.scheduledThrough());
        }
    }

    @Test
    void aReportAsLateAsTheWindowAllowsIsHonoured() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(8);
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE).withLoadFailureWindow(3), 16, connector)) {
            Request r = p.arrive("r", 12, 4);
            step(p);
            step(p);
            step(p);
            assertTrue(r.holdsOutputs(), "held for three steps");
            int failed = p.kv.blockIds("r")[1];

            SchedulerOutput out = p.schedule();
            StepOutcome outcome = p.applier.apply(out, reporting(out, Set.of(failed)));

            assertEquals(List.of(new HoldResolution("r", false)), outcome.holdResolutions());
            assertEquals(1, r.loadFailures);
            assertEquals(Parts.BLOCK, r.scheduledThrough(), "recomputes from the failed block");
            assertEquals(0, p.stats.lateLoadFailureReports());
            assertEquals(0, p.stats.ignoredInvalidBlocks());
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

    /** The workers' output of {@code out}: a token for every request that samples, and {@code invalid} blocks. */
    private static StepResult reporting(SchedulerOutput out, Set<Integer> invalid) {
        WorkerReports reports = new WorkerReports(
                List.of(FinishedTransfers.NONE), invalid, Optional.empty(), List.of(), Optional.empty());
        return new StepResult(SampledTokens.byId(tokens(out)), reports, List.of());
    }

    private static Set<Integer> set(int[] blocks) {
        return IntStream.of(blocks).boxed().collect(Collectors.toSet());
    }

    /**
     * Reports {@code invalid} with the output of {@code owner}'s next step and checks that it
     * leaves {@code owner} alone: nothing discarded, truncated, recomputed or failed, its cached
     * blocks still cached, its token appended, and no load failure counted; the blocks were
     * counted as ignored.
     */
    private static void assertReportIgnored(Parts p, Request owner, Set<Integer> invalid) {
        int computed = owner.numComputedTokens();
        int outputs = owner.numOutputTokens();
        int ownerFailures = owner.loadFailures;
        long failures = p.stats.loadFailures();
        long recomputed = p.stats.requestsRecomputed();
        long ignored = p.stats.ignoredInvalidBlocks();
        int[] blocks = p.kv.blockIds(owner.requestId());
        int cached = computed / Parts.BLOCK;
        for (int i = 0; i < cached; i++) {
            assertTrue(p.pool.cachedHash(blocks[i]).isPresent(), "precondition: block " + i + " is cached");
        }

        SchedulerOutput out = p.schedule();
        StepOutcome outcome = p.applier.apply(out, reporting(out, invalid));

        assertEquals(Set.of(), outcome.discardedOutputs());
        assertEquals(RequestStatus.RUNNING, owner.status());
        assertEquals(ownerFailures, owner.loadFailures);
        assertEquals(computed + 1, owner.numComputedTokens(), "its step was confirmed, nothing truncated");
        assertEquals(outputs + 1, owner.numOutputTokens(), "its token was appended");
        for (int i = 0; i < cached; i++) {
            assertTrue(p.pool.cachedHash(blocks[i]).isPresent(), "block " + i + " stays cached");
        }
        assertEquals(failures, p.stats.loadFailures());
        assertEquals(recomputed, p.stats.requestsRecomputed());
        assertEquals(0, p.stats.lateLoadFailureReports());
        assertEquals(ignored + invalid.size(), p.stats.ignoredInvalidBlocks());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(LoadFailurePolicy.class)
    void aLateReportOfAnAbortedLoadLeavesTheRequestItsBlocksWentToAlone(LoadFailurePolicy policy) {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> r.requestId().equals("a") ? MatchResult.sync(8) : MatchResult.none();
        // Three blocks: "b" gets every block "a" had.
        try (Parts p = new Parts(policy(policy), 3, connector)) {
            Request a = p.arrive("a", 12, 4);
            step(p);
            int[] loaded = Arrays.copyOf(p.kv.blockIds("a"), 2);
            p.queues.finish(a, RequestStatus.FINISHED_ABORTED, "aborted");
            Request b = p.arrive("b", 11, 4);
            step(p);
            assertTrue(set(p.kv.blockIds("b")).containsAll(set(loaded)), "b computed into a's loaded blocks");

            assertReportIgnored(p, b, set(loaded));
        }
    }

    @Test
    void aLateReportOfALoadGivenUpLeavesTheRequestItsBlocksWentToAlone() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> r.requestId().equals("a") ? MatchResult.async(8) : MatchResult.none();
        try (Parts p = new Parts(policy(LoadFailurePolicy.FAIL), 3, connector)) {
            Request a = p.arrive("a", 12, 4);
            step(p);
            int[] loaded = p.kv.blockIds("a");
            p.now += Parts.CONNECTOR_TIMEOUT.toNanos() + 1;
            p.liveness.check();
            assertEquals(RequestStatus.FINISHED_ERROR, a.status(), "the load was given up");
            Request b = p.arrive("b", 11, 4);
            step(p);
            assertTrue(set(p.kv.blockIds("b")).containsAll(set(loaded)), "b computed into a's load's blocks");

            assertReportIgnored(p, b, set(loaded));
        }
    }

    @Test
    void aLateReportOfALoadGivenUpLeavesItsRequestComputingTheBlocksItselfAlone() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.async(8);
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 3, connector)) {
            Request a = p.arrive("a", 11, 4);
            step(p);
            int[] loaded = p.kv.blockIds("a");
            p.now += Parts.CONNECTOR_TIMEOUT.toNanos() + 1;
            p.liveness.check();
            step(p);
            assertEquals(RequestStatus.RUNNING, a.status(), "it computes without the connector now");
            assertTrue(set(p.kv.blockIds("a")).containsAll(set(loaded)), "into the blocks of its given-up load");

            assertReportIgnored(p, a, set(loaded));
        }
    }

    @Test
    void aReportOfABlockTheLoaderComputedItselfIsIgnored() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(8);
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, connector)) {
            Request r = p.arrive("r", 12, 4);
            step(p);
            int computedItself = p.kv.blockIds("r")[2];
            SchedulerOutput out = p.schedule();

            assertEquals(Set.of(), p.recovery.invalidBlocksReported(Set.of(computedItself), out));
            assertEquals(1, p.stats.ignoredInvalidBlocks());
            assertTrue(r.holdsOutputs(), "its held outputs stay held");
            assertEquals(0, r.loadFailures);
            assertEquals(12, r.scheduledThrough());
        }
    }

    @Test
    void aBlockComputedAgainAfterItsLoadFailedIsNoLoadsAnyMore() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(8);
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, connector)) {
            Request r = p.arrive("r", 12, 4);
            step(p);
            int failed = p.kv.blockIds("r")[1];
            SchedulerOutput out = p.schedule();
            p.applier.apply(out, reporting(out, Set.of(failed)));
            assertEquals(1, r.loadFailures);
            step(p);
            assertEquals(12, r.numComputedTokens(), "computed again from the failed block");

            // The same report once more: the block holds what r computed, not what its load wrote.
            assertEquals(Set.of(), p.recovery.invalidBlocksReported(Set.of(failed), p.schedule()));
            assertEquals(1, p.stats.ignoredInvalidBlocks());
            assertEquals(1, r.loadFailures);
            assertEquals(12, r.numComputedTokens());
        }
    }

    @Test
    void aReportCannotBeAboutALoadGrantedAfterItsStepWasScheduled() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> r.requestId().equals("b") ? MatchResult.async(8) : MatchResult.none();
        SchedulerConfig async = new SchedulerConfig(
                64,
                8,
                64,
                SchedulingPolicy.FCFS,
                true,
                LoadFailurePolicy.RECOMPUTE,
                ConnectorErrorPolicy.FAIL_REQUESTS,
                1,
                Parts.CONNECTOR_TIMEOUT);
        try (Parts p = new Parts(async, 16, connector)) {
            p.arrive("x", 6, 4);
            SchedulerOutput first = p.schedule();
            Request b = p.arrive("b", 12, 4);
            // Scheduled before the first step's output is applied, as asynchronous scheduling does.
            p.schedule();
            assertEquals(RequestStatus.WAITING_FOR_REMOTE_KV, b.status());

            assertEquals(Set.of(), p.recovery.invalidBlocksReported(set(p.kv.blockIds("b")), first));
            assertEquals(0, b.loadFailures);
            assertFalse(p.transfers.failedLoads().contains("b"));
            assertEquals(2, p.stats.ignoredInvalidBlocks());
        }
    }

    @Test
    void blockIdsOutsideThePoolAreIgnored() {
        try (Parts p = new Parts(policy(LoadFailurePolicy.RECOMPUTE), 16, null)) {
            p.arrive("a", 12, 4);
            step(p);

            assertEquals(Set.of(), p.recovery.invalidBlocksReported(Set.of(0, -3, 999), p.schedule()));
            assertEquals(0, p.stats.loadFailures());
            assertEquals(0, p.stats.ignoredInvalidBlocks(), "counted as a connector bug of its own: logged");
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
