package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.ScheduledRequest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Planning one step: running requests first within the token budget, preemption when blocks run
 * out, admission of waiting requests only when nothing was preempted, and the connector's metadata.
 */
class StepPlannerTest {
    /** Token 7 for every request that samples in {@code out}. */
    private static StepResult sampled(SchedulerOutput out) {
        Map<String, Integer> tokens = new HashMap<>();
        for (ScheduledWork w : out.work()) {
            if (w.samples()) {
                tokens.put(w.requestId(), 7);
            }
        }
        return StepResult.tokensOnly(tokens);
    }

    private static List<String> ids(SchedulerOutput out) {
        return out.work().stream().map(ScheduledWork::requestId).toList();
    }

    private static SchedulerConfig config(int budget, int maxRunning, int chunk, boolean async) {
        return new SchedulerConfig(
                budget, maxRunning, chunk, SchedulingPolicy.FCFS, async, LoadFailurePolicy.RECOMPUTE);
    }

    @Test
    void runningRequestsComeFirstAndWaitingOnesFillTheRestOfTheBudget() {
        try (Parts p = new Parts(config(5, 8, 64, false), 16, null)) {
            p.arrive("a", 6, 4);
            SchedulerOutput first = p.schedule();
            p.applier.apply(first, sampled(first));
            p.arrive("b", 8, 4);
            p.arrive("c", 8, 4);

            SchedulerOutput second = p.schedule();

            // a decodes one token; b finds its first block in the prefix cache (a's) and computes
            // the other 4 of its prompt, the rest of the budget.
            assertEquals(List.of("a", "b"), ids(second));
            assertEquals(1, second.work().get(0).numTokens());
            assertEquals(ScheduledRequest.Kind.CONTINUING, second.work().get(0).kind());
            assertEquals(4, second.work().get(1).start());
            assertEquals(4, second.work().get(1).numTokens());
            assertEquals(5, second.totalScheduledTokens());
            assertEquals("c", p.queues.waiting().getFirst().requestId(), "c keeps its place");
        }
    }

    @Test
    void aDecodesNewBlockIsReadFromTheRequestsOwnBlockListAndStaysAsPlanned() {
        try (Parts p = new Parts(config(64, 8, 64, false), 16, null)) {
            p.arrive("a", Parts.BLOCK, 8); // one full block: its first decode needs a second one
            SchedulerOutput prompt = p.schedule();
            p.applier.apply(prompt, sampled(prompt));

            SchedulerOutput decode = p.schedule();
            ScheduledWork w = decode.work().getFirst();

            assertEquals(ScheduledRequest.Kind.CONTINUING, w.kind());
            assertEquals(1, w.numBlocks());
            assertEquals(p.kv.blockAt("a", 1), w.block(0));
            assertArrayEquals(new int[] {p.kv.blockAt("a", 1)}, w.blockTable());
            assertArrayEquals(
                    new int[] {p.kv.blockAt("a", 1)},
                    decode.scheduledRequests().getFirst().newBlockIds().toArray(0));
            assertThrows(IndexOutOfBoundsException.class, () -> w.block(1));
            int planned = w.block(0);

            p.queues.finish(p.queues.require("a"), RequestStatus.FINISHED_ABORTED, ""); // frees its blocks
            assertFalse(p.kv.owns("a"));
            assertEquals(planned, w.block(0), "the step's entry reads its block as planned");
        }
    }

    /** The second of two steps: request {@code a} (6 prompt tokens) decoding, {@code b} (3) just admitted. */
    private record DecodeBesideArrival(Request decoding, SchedulerOutput step) {}

    private static DecodeBesideArrival decodeBesideArrival(Parts p) {
        Request a = p.arrive("a", 6, 8);
        SchedulerOutput first = p.schedule();
        p.applier.apply(first, sampled(first));
        p.arrive("b", 3, 4);
        return new DecodeBesideArrival(a, p.schedule());
    }

    @Test
    void connectorsSeeEachWorkEntryAsAScheduledRequestBuiltOnceWhenRead() {
        try (Parts p = new Parts(config(64, 8, 64, false), 16, null)) {
            DecodeBesideArrival steps = decodeBesideArrival(p);
            Request a = steps.decoding();
            SchedulerOutput second = steps.step();

            List<ScheduledRequest> entries = second.scheduledRequests();
            assertEquals(2, entries.size());
            ScheduledRequest decode = entries.get(0);
            assertSame(a, decode.request(), "the engine's own request, read live");
            assertEquals(ScheduledRequest.Kind.CONTINUING, decode.kind());
            assertEquals(1, decode.numScheduledTokens());
            assertEquals(6, decode.numComputedTokensBefore());
            assertTrue(decode.newBlockIds().isEmpty(), "position 6 is in a's second block, owned already");
            ScheduledRequest admitted = entries.get(1);
            assertEquals(ScheduledRequest.Kind.NEW, admitted.kind());
            assertEquals(3, admitted.numScheduledTokens());
            assertEquals(1, admitted.newBlockIds().size(), "a new request gets its whole block table");
            assertSame(decode, second.scheduledRequests().get(0), "built once");
            assertThrows(IndexOutOfBoundsException.class, () -> entries.get(2));
        }
    }

    @Test
    void connectorsReadEachEntryByIndexWithTheSameValuesAsTheList() {
        try (Parts p = new Parts(config(64, 8, 64, false), 16, null)) {
            DecodeBesideArrival steps = decodeBesideArrival(p);
            Request a = steps.decoding();
            SchedulerOutput second = steps.step();

            // Index reads first, so that they cannot be answered from entries the list built.
            assertEquals(2, second.numScheduledRequests());
            assertSame(a, second.requestAt(0), "the engine's own request, read live");
            assertEquals(ScheduledRequest.Kind.CONTINUING, second.kindAt(0));
            assertEquals(1, second.numScheduledTokensAt(0));
            assertEquals(6, second.numComputedTokensBeforeAt(0));
            assertEquals("b", second.requestAt(1).requestId());
            assertEquals(ScheduledRequest.Kind.NEW, second.kindAt(1));
            assertEquals(3, second.numScheduledTokensAt(1));
            assertEquals(0, second.numComputedTokensBeforeAt(1));
            assertThrows(IndexOutOfBoundsException.class, () -> second.requestAt(2));
            assertThrows(IndexOutOfBoundsException.class, () -> second.kindAt(-1));

            List<ScheduledRequest> entries = second.scheduledRequests();
            assertEquals(entries.size(), second.numScheduledRequests());
            for (int i = 0; i < entries.size(); i++) {
                ScheduledRequest e = entries.get(i);
                assertSame(e.request(), second.requestAt(i));
                assertEquals(e.kind(), second.kindAt(i));
                assertEquals(e.numScheduledTokens(), second.numScheduledTokensAt(i));
                assertEquals(e.numComputedTokensBefore(), second.numComputedTokensBeforeAt(i));
            }
        }
    }

    @Test
    void aDecodeEntryShowsItsOwnStepsTokenWhileTheRequestGoesOn() {
        try (Parts p = new Parts(config(64, 8, 64, false), 16, null)) {
            p.arrive("r", 6, 8);
            SchedulerOutput first = p.schedule();
            p.applier.apply(first, sampled(first));
            SchedulerOutput second = p.schedule();
            ScheduledWork decode = second.work().getFirst();

            assertEquals(1, decode.numKnownTokens());
            assertEquals(7, decode.token(0), "the token sampled in the first step");
            // The request goes on appending tokens: the entry keeps showing its own step's token.
            for (int i = 0; i < 3; i++) {
                p.applier.apply(second, sampled(second));
                second = p.schedule();
            }
            assertEquals(7, decode.token(0));
            assertEquals(1, decode.numKnownTokens());
            assertThrows(IndexOutOfBoundsException.class, () -> decode.token(1));
        }
    }

    @Test
    void aLongPromptIsComputedInChunks() {
        try (Parts p = new Parts(config(64, 8, 8, false), 16, null)) {
            p.arrive("r", 20, 4);

            SchedulerOutput first = p.schedule();
            p.applier.apply(first, sampled(first));
            SchedulerOutput second = p.schedule();

            assertEquals(8, first.work().getFirst().numTokens());
            assertFalse(first.work().getFirst().samples());
            assertEquals(8, second.work().getFirst().start());
            assertEquals(8, second.work().getFirst().numTokens());
        }
    }

    @Test
    void whenBlocksRunOutTheLastAdmittedIsPreemptedAndNobodyIsAdmitted() {
        // Four blocks: a and b take two each; a's next token needs a third.
        try (Parts p = new Parts(config(64, 8, 64, false), 4, null)) {
            p.arrive("a", 8, 4);
            p.arrive("b", 7, 4);
            SchedulerOutput first = p.schedule();
            p.applier.apply(first, sampled(first));
            p.arrive("c", 2, 4);

            SchedulerOutput second = p.schedule();

            assertEquals(Set.of("b"), second.preemptedRequestIds());
            assertEquals(List.of("a"), ids(second));
            Request b = p.queues.get("b");
            assertEquals(RequestStatus.PREEMPTED, b.status());
            assertEquals(
                    List.of("b", "c"),
                    p.queues.waiting().stream().map(Request::requestId).toList(),
                    "nothing was admitted in a step that preempted");
        }
    }

    @Test
    void aVictimPlannedEarlierInTheStepLeavesItWithItsPositionReset() {
        // Four blocks. Under priority scheduling the victim is the highest value, here the request
        // running first, which this step has already planned (and moved past the step) when the
        // urgent one behind it needs a block.
        var priority = new SchedulerConfig(64, 8, 64, SchedulingPolicy.PRIORITY, false, LoadFailurePolicy.RECOMPUTE);
        try (Parts p = new Parts(priority, 4, null)) {
            Request lax = p.request("lax", Parts.prompt(5), 8, 9);
            p.queues.arrive(lax);
            SchedulerOutput first = p.schedule();
            p.applier.apply(first, sampled(first));
            // Tokens of its own: the shared prompt prefix would give it lax's first block.
            int[] own = {501, 502, 503, 504, 505, 506, 507, 508};
            p.queues.arrive(p.request("urgent", own, 8, 0));
            SchedulerOutput second = p.schedule(); // lax decodes in its blocks, urgent takes the other two
            p.applier.apply(second, sampled(second));
            assertEquals(List.of("lax", "urgent"), ids(second));

            SchedulerOutput third = p.schedule(); // urgent's ninth position needs a fifth block

            assertEquals(List.of("urgent"), ids(third));
            assertEquals(Set.of("lax"), third.preemptedRequestIds());
            assertEquals(RequestStatus.PREEMPTED, lax.status());
            assertEquals(0, lax.scheduledThrough(), "recomputed from the start, not from where this step put it");
            assertEquals(9, p.queues.get("urgent").scheduledThrough());
            p.applier.apply(third, sampled(third));
            assertEquals(10, p.queues.get("urgent").numTokens());
        }
    }

    @Test
    void theRunningLimitStopsAdmission() {
        try (Parts p = new Parts(config(64, 1, 64, false), 16, null)) {
            p.arrive("a", 4, 4);
            p.arrive("b", 4, 4);

            assertEquals(List.of("a"), ids(p.schedule()));
        }
    }

    @Test
    void underAsynchronousSchedulingAPlaceholderStandsForEachTokenInFlight() {
        try (Parts p = new Parts(config(64, 8, 64, true), 16, null)) {
            Request r = p.arrive("r", 6, 4);

            SchedulerOutput first = p.schedule();
            SchedulerOutput second = p.schedule();

            assertEquals(1, first.work().size());
            assertEquals(6, second.work().getFirst().start(), "the next step computes the token in flight");
            assertEquals(0, second.work().getFirst().numKnownTokens(), "which only the workers know yet");
            assertEquals(2, r.numOutputPlaceholders());
            assertEquals(7, r.scheduledThrough());
        }
    }

    @Test
    void finishedRequestsAreToldToTheWorkersInTheNextStepOnce() {
        try (Parts p = new Parts(config(64, 8, 64, false), 16, null)) {
            p.arrive("r", 4, 1);
            SchedulerOutput first = p.schedule();
            p.applier.apply(first, sampled(first));

            assertEquals(Set.of("r"), p.schedule().finishedRequestIds());
            assertEquals(Set.of(), p.schedule().finishedRequestIds());
        }
    }

    @Test
    void aFailedMetadataBuildFailsTheRequestsThatNeededTheConnectorAndRunsTheRest() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> r.requestId().equals("loads") ? MatchResult.sync(8) : MatchResult.none();
        connector.throwing.add(ConnectorHook.BUILD_CONNECTOR_METADATA);
        try (Parts p = new Parts(config(64, 8, 64, false), 16, connector)) {
            Request loads = p.arrive("loads", 12, 4);
            p.arrive("plain", 6, 4);

            SchedulerOutput out = p.schedule();

            assertEquals(List.of("plain"), ids(out));
            assertEquals(6, out.totalScheduledTokens());
            assertEquals(RequestStatus.FINISHED_ERROR, loads.status());
            RequestUpdate.Finished f =
                    (RequestUpdate.Finished) p.outbox.takeUpdates().getFirst();
            assertTrue(f.reason().contains("buildConnectorMetadata"), f.reason());
            assertEquals(Set.of("loads"), p.schedule().finishedRequestIds(), "the next step tells the workers");
        }
    }

    @Test
    void theBlocksAnAsynchronousLoadMustFillGoToTheWorkers() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.offer = r -> MatchResult.async(8);
        try (Parts p = new Parts(config(64, 8, 64, false), 16, connector)) {
            p.arrive("r", 12, 4);

            SchedulerOutput out = p.schedule();

            assertEquals(List.of("r"), out.startedAsyncLoads());
            assertEquals(2, out.asyncLoadBlocks().get("r").length);
            assertFalse(out.hasWork());
        }
    }
}
