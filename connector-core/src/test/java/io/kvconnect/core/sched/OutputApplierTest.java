package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Applying a step's result: tokens, confirmation and caching, discarded and held outputs, finished
 * transfers counted by rank, failed worker hooks, and the one outcome that carries all of it.
 */
class OutputApplierTest {
    /** Token {@code token} for every request that samples in {@code out}, by position as workers give them. */
    private static SampledTokens tokens(SchedulerOutput out, int token) {
        int[] tokens = new int[out.work().size()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = out.work().get(i).samples() ? token : SampledTokens.NONE;
        }
        return SampledTokens.byPosition(out.step(), tokens);
    }

    private static WorkerReports reports(FinishedTransfers... byRank) {
        return new WorkerReports(List.of(byRank), Set.of(), Optional.empty(), List.of(), Optional.empty());
    }

    @Test
    void aSampledTokenIsAppendedAndWhatTheStepComputedConfirmedAndCached() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            Request r = p.arrive("r", 8, 4);
            SchedulerOutput out = p.schedule();

            StepOutcome outcome = p.applier.apply(out, StepResult.tokensOnly(tokens(out, 9)));

            assertEquals(List.of(new RequestUpdate.TokenAdded("r", 9, 1)), outcome.updates());
            assertEquals(8, r.numComputedTokens());
            assertEquals(2, p.pool.numCachedBlocks(), "both full blocks entered the prefix cache");
            assertEquals(Set.of(), outcome.discardedOutputs());
            assertEquals(1, p.clock.lastApplied());
            assertTrue(outcome.events().stream().anyMatch(e -> e instanceof KvEvent.BlockStored));
        }
    }

    @Test
    void theLastTokenFinishesTheRequestAndReleasesItsBlocks() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            p.arrive("r", 8, 1);
            SchedulerOutput out = p.schedule();

            StepOutcome outcome = p.applier.apply(out, StepResult.tokensOnly(tokens(out, 9)));

            RequestUpdate.Finished f =
                    (RequestUpdate.Finished) outcome.updates().getLast();
            assertEquals(RequestStatus.FINISHED_LENGTH_CAPPED, f.status());
            assertNull(p.queues.get("r"));
            assertFalse(p.kv.owns("r"));
        }
    }

    @Test
    void theOutputOfARequestFinishedAfterItsStepWasScheduledIsDiscarded() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            Request r = p.arrive("r", 8, 4);
            SchedulerOutput out = p.schedule();
            p.queues.finish(r, RequestStatus.FINISHED_ABORTED, "aborted");

            StepOutcome outcome = p.applier.apply(out, StepResult.tokensOnly(tokens(out, 9)));

            assertEquals(Set.of("r"), outcome.discardedOutputs());
            assertEquals(0, r.numComputedTokens());
            assertTrue(
                    outcome.updates().getFirst() instanceof RequestUpdate.Finished,
                    "the abort's update comes with the next outcome; no token follows it");
            assertEquals(1, outcome.updates().size());
        }
    }

    @Test
    void whatAStepComputedFromALoadThatMayStillFailIsHeldThenReleased() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(8);
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            Request r = p.arrive("r", 12, 4);
            SchedulerOutput load = p.schedule();

            StepOutcome held = p.applier.apply(load, StepResult.tokensOnly(tokens(load, 9)));
            assertEquals(Set.of("r"), held.heldOutputs());
            assertEquals(List.of(), held.updates(), "the token waits");
            assertEquals(0, r.numComputedTokens());

            SchedulerOutput next = p.schedule();
            StepOutcome released = p.applier.apply(next, StepResult.tokensOnly(tokens(next, 9)));
            assertEquals(List.of(new HoldResolution("r", true)), released.holdResolutions());
            assertEquals(List.of(new RequestUpdate.TokenAdded("r", 9, 1)), released.updates());
            assertEquals(12, r.numComputedTokens());
        }
    }

    @Test
    void aDelayedFreeEndsOnlyOnceEveryRankReportedTheSend() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.delayFree = true;
        try (Parts p = new Parts(Parts.config(), 16, connector, 2)) {
            p.arrive("r", 8, 1);
            SchedulerOutput first = p.schedule();
            p.applier.apply(first, StepResult.tokensOnly(tokens(first, 9)));
            assertTrue(p.transfers.awaitingSend("r"));

            SchedulerOutput second = p.schedule();
            p.applier.apply(
                    second,
                    new StepResult(
                            SampledTokens.byId(Map.of()),
                            reports(new FinishedTransfers(Set.of("r"), Set.of()), FinishedTransfers.NONE),
                            List.of()));
            assertTrue(p.kv.owns("r"), "one of two ranks reported");
            assertEquals(Set.of(), connector.outputs.getLast().finishedSending());

            SchedulerOutput third = p.schedule();
            p.applier.apply(
                    third,
                    new StepResult(
                            SampledTokens.byId(Map.of()),
                            reports(FinishedTransfers.NONE, new FinishedTransfers(Set.of("r"), Set.of())),
                            List.of()));
            assertFalse(p.kv.owns("r"));
            assertNull(p.queues.get("r"));
            assertEquals(
                    Set.of("r"),
                    connector.outputs.getLast().finishedSending(),
                    "the connector sees the completed send once");
        }
    }

    @Test
    void sendsCompletedInOneStepFreeTheirBlocksInIdOrder() {
        // Ids whose hashes are far apart, so that a Set's iteration order is almost never theirs.
        List<String> ids = List.of("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel");
        ScriptedConnector connector = new ScriptedConnector();
        connector.delayFree = true;
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            for (int i = 0; i < ids.size(); i++) {
                p.queues.arrive(p.request(ids.get(i), new int[] {i + 1, 50, 60}, 1, 0));
            }
            SchedulerOutput first = p.schedule();
            p.applier.apply(first, StepResult.tokensOnly(tokens(first, 9)));
            int[] blocksInIdOrder = ids.stream()
                    .flatMapToInt(id -> IntStream.of(p.kv.blockIds(id)))
                    .toArray();
            assertEquals(ids.size(), blocksInIdOrder.length);

            SchedulerOutput second = p.schedule();
            p.applier.apply(
                    second,
                    new StepResult(
                            SampledTokens.byId(Map.of()),
                            reports(new FinishedTransfers(Set.copyOf(ids), Set.of())),
                            List.of()));

            int[] free = p.pool.freeQueueOrder();
            assertArrayEquals(
                    blocksInIdOrder,
                    Arrays.copyOfRange(free, free.length - ids.size(), free.length),
                    "the blocks went back in another order, so later allocations would differ between runs");
        }
    }

    @Test
    void aWorkerHookThatMayHaveBrokenLoadsFailsTheRequestsThatLoaded() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> r.requestId().equals("loads") ? MatchResult.sync(8) : MatchResult.none();
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            Request loads = p.arrive("loads", 12, 4);
            Request plain = p.arrive("plain", 6, 4);
            SchedulerOutput out = p.schedule();
            HookFailure failure = new HookFailure(0, ConnectorHook.START_LOAD_KV, new IllegalStateException("x"));

            StepOutcome outcome = p.applier.apply(
                    out, new StepResult(tokens(out, 9), reports(FinishedTransfers.NONE), List.of(failure)));

            assertEquals(RequestStatus.FINISHED_ERROR, loads.status());
            assertEquals(
                    failure.toString(),
                    ((RequestUpdate.Finished) outcome.updates().getFirst()).reason());
            assertEquals(RequestStatus.RUNNING, plain.status());
            assertEquals(1, p.stats.hookFailures());
        }
    }

    @Test
    void aWorkerHookThatCannotBreakLoadsFailsNobodyButCounts() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.sync(8);
        try (Parts p = new Parts(Parts.config().withConnectorErrors(ConnectorErrorPolicy.DISABLE), 16, connector)) {
            Request r = p.arrive("r", 12, 4);
            SchedulerOutput out = p.schedule();

            StepOutcome outcome = p.applier.apply(
                    out,
                    new StepResult(
                            tokens(out, 9),
                            reports(FinishedTransfers.NONE),
                            List.of(new HookFailure(1, ConnectorHook.SAVE_KV_LAYER, new IllegalStateException("x")))));

            assertFalse(r.status().isFinished());
            assertEquals(1, p.stats.hookFailures());
            assertTrue(outcome.disableConnector(), "under disable any failure detaches the connector");
        }
    }

    @Test
    void aFenceEndsOnceItsStepWasApplied() {
        try (Parts p = new Parts(Parts.config(), 16, null)) {
            Request r = p.arrive("r", 8, 4);
            SchedulerOutput out = p.schedule();
            p.transfers.fence("r", 1);
            p.queues.finish(r, RequestStatus.FINISHED_ERROR, "a hook failed");
            assertTrue(p.kv.owns("r"));

            p.applier.apply(out, StepResult.tokensOnly(tokens(out, 9)));

            assertFalse(p.kv.owns("r"));
            assertNull(p.queues.get("r"));
        }
    }

    @Test
    void theOutcomeCarriesTheConnectorsEventsAndStatsAndWhatTheWorkersReported() {
        ScriptedConnector connector = new ScriptedConnector();
        KvEvent own = new KvEvent.AllBlocksCleared(StorageMedium.CPU);
        connector.events = List.of(own);
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            SchedulerOutput out = p.schedule();
            KvEvent workers = new KvEvent.AllBlocksCleared(StorageMedium.DISK);
            WorkerReports reports = new WorkerReports(
                    List.of(FinishedTransfers.NONE), Set.of(), Optional.empty(), List.of(workers), Optional.empty());

            StepOutcome outcome =
                    p.applier.apply(out, new StepResult(SampledTokens.byId(Map.of()), reports, List.of()));

            assertEquals(List.of(workers, own), outcome.events());
            assertEquals(List.of(workers), connector.outputs.getLast().workerEvents());
            assertFalse(outcome.disableConnector());
        }
    }

    @Test
    void withoutConnectorReportsTheConnectorSeesAnEmptyOutput() {
        ScriptedConnector connector = new ScriptedConnector();
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            SchedulerOutput out = p.schedule();

            p.applier.apply(out, StepResult.tokensOnly(Map.of()));

            assertEquals(List.of(ConnectorOutput.EMPTY), connector.outputs);
        }
    }
}
