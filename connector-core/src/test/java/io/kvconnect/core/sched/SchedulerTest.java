package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.core.kv.BlockGrants;
import io.kvconnect.core.kv.BlockPool;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The scheduler driven directly, step by step, with hand-made worker outputs: what connectors see,
 * what is held back until a load settles, the decisions the engine documents for refused requests
 * and lost tokens, and how the coordinator hands over what it decided (each update exactly once, in
 * the outcome of the call that follows the decision). State is observed through the scheduler's
 * read-only view.
 */
class SchedulerTest {
    private static final int BLOCK = 4;

    /** A connector that records its calls and offers {@code offer} synchronous tokens to every request. */
    private static final class Recording implements SchedulerConnector {
        final List<String> calls = new ArrayList<>();
        int offer;

        @Override
        public void onNewRequest(RequestView request) {
            calls.add("onNewRequest " + request.requestId());
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            return MatchResult.sync(offer);
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
            calls.add("updateStateAfterAlloc " + request.requestId() + " " + externalTokens);
        }

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            return ConnectorMetadata.NONE;
        }

        @Override
        public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
            calls.add("requestFinished " + request.requestId());
            return FinishResult.freeNow();
        }
    }

    private static Scheduler scheduler(SchedulerConnector connector, int blocks) {
        return new Scheduler(
                new SchedulerConfig(64, 8, 64, SchedulingPolicy.FCFS, false, LoadFailurePolicy.RECOMPUTE),
                new BlockPool(blocks + 1, BLOCK, true),
                connector,
                connector == null ? null : "recording");
    }

    private static int[] prompt(int n) {
        return IntStream.rangeClosed(1, n).map(i -> 100 + i).toArray();
    }

    private static List<RequestUpdate> add(Scheduler s, String id, int promptTokens, int maxTokens) {
        return s.addRequest(id, prompt(promptTokens), maxTokens, 0, TransferParams.empty(), Optional.empty());
    }

    /** The workers' output of {@code out}: token 7 for every request that samples, {@code invalid} blocks. */
    private static StepResult output(SchedulerOutput out, Set<Integer> invalid) {
        Map<String, Integer> tokens = new HashMap<>();
        for (ScheduledWork w : out.work()) {
            if (w.samples()) {
                tokens.put(w.requestId(), 7);
            }
        }
        WorkerReports reports = invalid.isEmpty()
                ? WorkerReports.NONE
                : new WorkerReports(
                        List.of(FinishedTransfers.NONE), invalid, Optional.empty(), List.of(), Optional.empty());
        return new StepResult(SampledTokens.byId(tokens), reports, List.of());
    }

    @Test
    void aSynchronousLoadIsGrantedForItsOwnStepAndTheWorkersLearnOfItsEndWithTheNext() {
        Recording connector = new Recording();
        connector.offer = 8;
        BlockPool pool = new BlockPool(17, BLOCK, true);
        Scheduler s = new Scheduler(
                new SchedulerConfig(64, 8, 64, SchedulingPolicy.FCFS, true, LoadFailurePolicy.RECOMPUTE),
                pool,
                connector,
                "recording");
        BlockGrants worker = new BlockGrants(17);
        add(s, "r", 12, 4);
        SchedulerOutput loads = s.schedule();
        assertEquals(8, loads.work().getFirst().externalTokens());
        int[] targets = {
            loads.work().getFirst().blockTable()[0], loads.work().getFirst().blockTable()[1]
        };
        worker.apply(loads.grantChanges());
        assertTrue(worker.writable(targets[0]) && worker.writable(targets[1]), "the loading step may write");

        // Asynchronous scheduling: the next step is scheduled before the loading step's output.
        SchedulerOutput next = s.schedule();
        assertFalse(
                pool.grants().writable(targets[0]) || pool.grants().writable(targets[1]), "the load outlived its step");
        assertTrue(
                worker.writable(targets[0]) && worker.writable(targets[1]),
                "a worker still running the loading step lost its grant");
        worker.apply(next.grantChanges());
        assertFalse(worker.writable(targets[0]) || worker.writable(targets[1]), "the next step may write");
    }

    @Test
    void aRequestTooLargeForThePoolIsRefusedWithoutReachingTheConnector() {
        Recording connector = new Recording();
        Scheduler s = scheduler(connector, 4);
        List<RequestUpdate> updates = add(s, "huge", 30, 10);

        assertEquals(1, updates.size());
        RequestUpdate.Finished f = (RequestUpdate.Finished) updates.getFirst();
        assertEquals(RequestStatus.FINISHED_ERROR, f.status());
        assertTrue(
                f.reason().startsWith("request too large: 30 prompt tokens + 10 max tokens need 10 blocks"),
                f.reason());
        assertEquals(List.of(), connector.calls, "the connector heard of a refused request");
        assertEquals(1, s.stats().requestsRefused());
        assertTrue(s.view().requestState("huge").isEmpty());
        assertTrue(!s.hasWork());
    }

    @Test
    void aStepsUpdatesAreLentUntilTheNextUpdateAndArrivalsMeanwhileLeaveThemAlone() {
        Scheduler s = scheduler(null, 16);
        add(s, "a", 4, 3);
        SchedulerOutput first = s.schedule();
        RequestUpdates lent = s.update(first, output(first, Set.of())).updates();

        // Between the steps: an arrival refused (a finish into the outbox) and the next schedule.
        List<RequestUpdate> refused = add(s, "huge", 200, 10);
        SchedulerOutput second = s.schedule();

        assertTrue(lent.isLent());
        assertEquals(List.of(new RequestUpdate.TokenAdded("a", 7, 1)), lent, "changed before the next update");
        assertEquals(RequestStatus.FINISHED_ERROR, ((RequestUpdate.Finished) refused.getFirst()).status());
        RequestUpdates kept = lent.keep();

        RequestUpdates next = s.update(second, output(second, Set.of())).updates();

        assertEquals(List.of(new RequestUpdate.TokenAdded("a", 7, 2)), next);
        assertThrows(IllegalStateException.class, lent::size, "a lent batch read after the next update");
        assertEquals(List.of(new RequestUpdate.TokenAdded("a", 7, 1)), kept);
    }

    @Test
    void aSamplingRequestMissingFromTheWorkersOutputFailsWithTheReason() {
        Scheduler s = scheduler(null, 16);
        add(s, "r", 6, 3);
        SchedulerOutput out = s.schedule();
        StepOutcome outcome = s.update(out, StepResult.tokensOnly(Map.of()));

        RequestUpdate.Finished f = (RequestUpdate.Finished) outcome.updates().getLast();
        assertEquals(RequestStatus.FINISHED_ERROR, f.status());
        assertEquals("the workers sampled no token for it in step 1", f.reason());
        assertTrue(outcome.discardedOutputs().contains("r"));
        s.schedule(); // tells the workers it finished
        assertTrue(!s.hasWork(), "nothing waits for a token nobody computes");
    }

    @Test
    void connectorsSeeOnlyConfirmedPositionsWhileTheSchedulerPlansWithScheduledOnes() {
        Scheduler s = scheduler(null, 16);
        add(s, "r", 10, 4);
        SchedulerOutput out = s.schedule();
        SchedulerView.RequestState planned = s.view().requestState("r").orElseThrow();
        assertEquals(10, planned.scheduledThrough());
        assertEquals(0, planned.confirmed());
        assertEquals(3, planned.blocks().size());

        s.update(out, output(out, Set.of()));
        SchedulerView.RequestState done = s.view().requestState("r").orElseThrow();
        assertEquals(10, done.confirmed());
        assertEquals(11, done.numTokens());
    }

    @Test
    void whatARequestComputesFromASynchronousLoadIsHeldForTheWindowThenReleased() {
        Recording connector = new Recording();
        connector.offer = 8;
        Scheduler s = scheduler(connector, 16);
        add(s, "r", 12, 4);
        SchedulerOutput load = s.schedule();
        assertEquals(8, load.work().getFirst().externalTokens());
        StepOutcome loaded = s.update(load, output(load, Set.of()));
        SchedulerView.RequestState held = s.view().requestState("r").orElseThrow();
        assertEquals(0, held.confirmed(), "nothing confirmed while the load may still be reported failed");
        assertEquals(12, held.heldConfirm());
        assertEquals(1, held.heldTokens());
        assertEquals(12, held.numTokens(), "the sampled token is not out yet");
        assertTrue(loaded.heldOutputs().contains("r"));
        assertEquals(List.of(), loaded.holdResolutions(), "whether they are used is not known yet");

        // The next step has nothing to compute for r (its token is held); its output settles r.
        SchedulerOutput next = s.schedule();
        assertTrue(next.work().isEmpty());
        StepOutcome settled = s.update(next, output(next, Set.of()));
        SchedulerView.RequestState released = s.view().requestState("r").orElseThrow();
        assertEquals(12, released.confirmed());
        assertEquals(13, released.numTokens());
        assertEquals(List.of(new HoldResolution("r", true)), settled.holdResolutions());
        assertTrue(settled.updates().stream().anyMatch(u -> u instanceof RequestUpdate.TokenAdded t && t.token() == 7));
    }

    @Test
    void aFailureReportedWithinTheWindowDropsTheHeldOutputsAndRecomputesFromTheFailedBlock() {
        Recording connector = new Recording();
        connector.offer = 8;
        Scheduler s = scheduler(connector, 16);
        add(s, "r", 12, 4);
        SchedulerOutput load = s.schedule();
        s.update(load, output(load, Set.of()));
        int failed = s.view().requestState("r").orElseThrow().blocks().get(1);

        SchedulerOutput next = s.schedule();
        StepOutcome reported = s.update(next, output(next, Set.of(failed)));
        SchedulerView.RequestState after = s.view().requestState("r").orElseThrow();
        assertEquals(0, after.heldTokens());
        assertEquals(BLOCK, after.scheduledThrough(), "recomputes from the failed block");
        assertEquals(1, after.loadFailures());
        assertEquals(List.of(new HoldResolution("r", false)), reported.holdResolutions());
        assertEquals(0, s.stats().lateLoadFailureReports());

        // Recomputed locally: the connector's next offer is trimmed to before the failed block.
        SchedulerOutput again = s.schedule();
        assertEquals(BLOCK, again.work().getFirst().start());
        assertEquals(0, again.work().getFirst().externalTokens());
    }

    @Test
    void freedBlocksJoinTheFreeQueueTailLastBlockFirst() {
        Scheduler s = scheduler(null, 8);
        add(s, "r", 10, 1);
        SchedulerOutput out = s.schedule();
        List<Integer> blocks = s.view().requestState("r").orElseThrow().blocks();
        s.update(out, output(out, Set.of()));
        int[] queue = s.view().kvCacheManager().pool().freeQueueOrder();
        // The request finished at its cap and freed its blocks tail first: they are allocated last,
        // its first block (the most shareable prefix) the very last.
        int n = queue.length;
        assertArrayEquals(
                new int[] {blocks.get(2), blocks.get(1), blocks.get(0)},
                new int[] {queue[n - 3], queue[n - 2], queue[n - 1]});
        assertEquals(Set.of(), s.view().finishedReceivingIds());
        assertEquals(Set.of(), s.view().failedReceivingIds());
    }

    @Test
    void theConnectorIsBoundToTheReadOnlyViewNotToTheScheduler() {
        ScriptedConnector connector = new ScriptedConnector();
        Scheduler s = new Scheduler(Parts.config(), new BlockPool(17, BLOCK, true), connector, "scripted");

        assertSame(s.view(), connector.state);
        assertEquals(List.of("bindSchedulerState", "expectedFinishedCount"), connector.calls);
        s.shutdown();
    }

    @Test
    void aConnectorExpectingReportsFromMoreRanksThanWorkersIsRefusedAndShutDown() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.expectedFinishedCount = OptionalInt.of(3);

        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new Scheduler(
                        Parts.config(),
                        new BlockPool(17, BLOCK, true),
                        connector,
                        "scripted",
                        2,
                        System::nanoTime,
                        null));

        assertEquals("expected finished count must be in [1, 2], got 3", e.getMessage());
        assertEquals(List.of("shutdown"), connector.callsOf(ConnectorHook.SHUTDOWN));
    }

    @Test
    void anAbortHandsItsUpdateOverAtOnceAndOnlyOnce() {
        Scheduler s = scheduler(null, 16);
        add(s, "r", 6, 3);
        SchedulerOutput out = s.schedule();

        List<RequestUpdate> aborted = s.abort("r");

        assertEquals(1, aborted.size());
        assertEquals(RequestStatus.FINISHED_ABORTED, ((RequestUpdate.Finished) aborted.getFirst()).status());
        assertEquals(List.of(), s.abort("r"), "already finished");
        StepOutcome outcome = s.update(out, StepResult.tokensOnly(Map.of("r", 7)));
        assertEquals(List.of(), outcome.updates(), "not handed over twice, and no token after the abort");
        assertEquals(Set.of("r"), outcome.discardedOutputs());
    }

    @Test
    void whatSchedulingDecidedComesWithTheNextOutcome() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.throwing.add(ConnectorHook.GET_NUM_NEW_MATCHED_TOKENS);
        Scheduler s = new Scheduler(Parts.config(), new BlockPool(17, BLOCK, true), connector, "scripted");
        add(s, "r", 6, 3);

        SchedulerOutput out = s.schedule();
        StepOutcome outcome = s.update(out, StepResult.tokensOnly(Map.of()));

        RequestUpdate.Finished f = (RequestUpdate.Finished) outcome.updates().getFirst();
        assertEquals(RequestStatus.FINISHED_ERROR, f.status());
        assertTrue(f.reason().contains("getNumNewMatchedTokens"), f.reason());
        s.shutdown();
    }

    @Test
    void aDisableRequestedWhileSchedulingIsOnTheOutputAndTheOutcome() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.throwing.add(ConnectorHook.BUILD_CONNECTOR_METADATA);
        SchedulerConfig config = Parts.config().withConnectorErrors(ConnectorErrorPolicy.DISABLE);
        Scheduler s = new Scheduler(config, new BlockPool(17, BLOCK, true), connector, "scripted");

        SchedulerOutput out = s.schedule();
        assertTrue(out.connectorDisableRequested(), "even if no output is applied in this engine step");
        assertTrue(s.update(out, StepResult.tokensOnly(Map.of())).disableConnector());

        s.disableConnector();
        assertEquals(List.of("shutdown"), connector.callsOf(ConnectorHook.SHUTDOWN));
        assertTrue(s.stats().connectorDisabled());
        SchedulerOutput after = s.schedule();
        assertTrue(!after.connectorDisableRequested(), "detached: nothing left to disable");
        s.shutdown();
        assertEquals(1, connector.callsOf(ConnectorHook.SHUTDOWN).size(), "shut down once");
    }

    @Test
    void aStepsWorkStaysReadableUntilTheStepAfterNextIsPlannedAndIsRefusedAfterThat() {
        // Asynchronous scheduling: step n + 1 is planned before step n is applied.
        Scheduler s = new Scheduler(
                new SchedulerConfig(64, 8, 64, SchedulingPolicy.FCFS, true, LoadFailurePolicy.RECOMPUTE),
                new BlockPool(33, BLOCK, true),
                null,
                null);
        add(s, "a", 6, 8);
        add(s, "b", 3, 8);
        SchedulerOutput first = s.schedule();
        SchedulerOutput second = s.schedule();
        assertEquals(List.of("a", "b"), ids(first));
        assertEquals(
                List.of(6, 3),
                first.work().stream().map(ScheduledWork::numTokens).toList());
        assertEquals(
                List.of(6, 3), second.work().stream().map(ScheduledWork::start).toList());

        ScheduledRequest readInTime = first.scheduledRequests().get(0);
        assertEquals(3, first.grantChanges().size(), "the blocks a and b were given in the first step");
        s.update(first, output(first, Set.of()));
        SchedulerOutput third = s.schedule();

        // The second step, still running, reads as it was planned; the third is the next decode.
        assertEquals(
                List.of(6, 3), second.work().stream().map(ScheduledWork::start).toList());
        assertEquals(
                List.of(7, 4), third.work().stream().map(ScheduledWork::start).toList());
        assertEquals(2, first.work().size(), "the size is the step's own");
        IllegalStateException stale =
                assertThrows(IllegalStateException.class, () -> first.work().get(0));
        assertTrue(stale.getMessage().contains("step 1's output was read after"), stale.getMessage());
        assertThrows(
                IllegalStateException.class, () -> first.scheduledRequests().get(1), "first read too late");
        assertThrows(IllegalStateException.class, () -> first.requestAt(1), "read by index too late");
        assertThrows(IllegalStateException.class, () -> first.kindAt(0), "read by index too late");
        assertEquals(2, first.numScheduledRequests(), "the size is the step's own");
        assertSame(readInTime, first.scheduledRequests().get(0), "an entry read in time stays as it was");
        assertEquals(6, readInTime.numScheduledTokens());
        assertEquals(1, third.grantChanges().size(), "b's second block");
        IllegalStateException staleGrants = assertThrows(IllegalStateException.class, first::grantChanges);
        assertTrue(
                staleGrants.getMessage().contains("step 1's grant changes were read after"), staleGrants.getMessage());
        assertEquals(0, second.grantChanges().size(), "nothing changed in the second step");

        s.update(second, output(second, Set.of()));
        s.update(third, output(third, Set.of()));
        assertEquals(6 + 3, s.view().findRequest("a").orElseThrow().numTokens());
    }

    private static List<String> ids(SchedulerOutput out) {
        return out.work().stream().map(ScheduledWork::requestId).toList();
    }
}
