package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.scheduler.MatchResult;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Loads: the children's runs compose (see {@link LoadCompositionTest}), the others learn they load
 * nothing; "ask later"; stale choices.
 */
class LoadRoutingTest {
    private static final BlockIds BLOCKS = BlockIds.of(11, 12, 13, 14, 15);

    @Test
    void aRunOfTheOtherModeIsNotAppendedAndItsChildLearnsItLoadsNothing() {
        Harness h = new Harness(1, "a", "b", "c");
        h.child(1).matches.put("r", MatchResult.sync(8));
        h.child(2).matches.put("r", MatchResult.async(12));
        var r = Harness.request("r");

        assertEquals(MatchResult.sync(8), h.scheduler.getNumNewMatchedTokens(r, 4));
        assertEquals(List.of("getNumNewMatchedTokens:r:4"), h.child(0).calls("getNumNewMatchedTokens"));
        assertEquals(List.of("getNumNewMatchedTokens:r:4"), h.child(1).calls("getNumNewMatchedTokens"));
        assertEquals(
                List.of("getNumNewMatchedTokens:r:12"),
                h.child(2).calls("getNumNewMatchedTokens"),
                "every child is asked, also after the composition ended, from where the runs end");

        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 4, 8);
        assertEquals(
                List.of("updateStateAfterAlloc:r:" + BLOCKS + ":4:0"),
                h.child(0).calls("updateStateAfterAlloc"));
        assertEquals(
                List.of("updateStateAfterAlloc:r:" + BLOCKS + ":4:8"),
                h.child(1).calls("updateStateAfterAlloc"),
                "the chosen child gets the external tokens, the real blocks and the local hit");
        assertEquals(
                List.of("updateStateAfterAlloc:r:" + BLOCKS + ":12:0"),
                h.child(2).calls("updateStateAfterAlloc"),
                "a child with a hit that was not used gets 0, with the real blocks and the prefix it was asked at");
    }

    @Test
    void anAsynchronousLoadIsReportedToItsLoaderOnly() {
        Harness h = new Harness(2, "a", "b");
        h.child(1).matches.put("r", MatchResult.async(8));
        var r = Harness.request("r");
        assertEquals(MatchResult.async(8), h.scheduler.getNumNewMatchedTokens(r, 0));
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 8);

        h.worker(0, 1).receiving = Set.of("r");
        h.worker(1, 1).receiving = Set.of("r");
        ConnectorOutput out = h.step();

        assertEquals(Set.of("r"), out.finishedReceiving(), "both ranks reported: the engine's count completes");
        assertEquals(Set.of("r"), h.child(1).lastOutput().finishedReceiving());
        assertEquals(Set.of(), h.child(0).lastOutput().finishedReceiving(), "not the loader: not told");

        // The second call, once the load finished, carries no external tokens for anyone.
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 0);
        assertTrue(h.child(1).calls("updateStateAfterAlloc").getLast().endsWith(":0"));
        assertEquals(0, h.scheduler.awaitedTransfers());
    }

    @Test
    void askLaterFromAHigherPriorityChildDefersTheRequestButFromALowerOneItDoesNot() {
        Harness h = new Harness(1, "a", "b");
        var r = Harness.request("r");

        h.child(0).matches.put("r", MatchResult.askLater());
        h.child(1).matches.put("r", MatchResult.sync(8));
        assertEquals(
                MatchResult.askLater(),
                h.scheduler.getNumNewMatchedTokens(r, 0),
                "a could still have more: the request waits");
        assertEquals(1, h.child(1).calls("getNumNewMatchedTokens").size(), "b was asked anyway");

        // Asked again later: a has decided now, and b's answer still counts.
        h.child(0).matches.put("r", MatchResult.none());
        assertEquals(MatchResult.sync(8), h.scheduler.getNumNewMatchedTokens(r, 0));

        // A hit from a higher-priority child is not held back by a lower child still looking.
        h.child(0).matches.put("r", MatchResult.sync(4));
        h.child(1).matches.put("r", MatchResult.askLater());
        assertEquals(MatchResult.sync(4), h.scheduler.getNumNewMatchedTokens(r, 0));
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 4);
        assertTrue(h.child(0).calls("updateStateAfterAlloc").getLast().endsWith(":4"));
        assertTrue(h.child(1).calls("updateStateAfterAlloc").getLast().endsWith(":0"));
    }

    @Test
    void noStaleChoiceSurvivesALaterLookupThatFindsNothing() {
        Harness h = new Harness(2, "a", "b");
        var r = Harness.request("r");
        h.child(1).matches.put("r", MatchResult.async(8));
        assertEquals(MatchResult.async(8), h.scheduler.getNumNewMatchedTokens(r, 0));

        // The allocation failed; by the next lookup b's blocks are gone.
        h.child(1).matches.put("r", MatchResult.none());
        assertEquals(MatchResult.none(), h.scheduler.getNumNewMatchedTokens(r, 0));
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 0);
        assertTrue(h.child(1).calls("updateStateAfterAlloc").getLast().endsWith(":0"), "b is not told to load");

        // Also a later "ask later" clears the choice.
        h.child(1).matches.put("r", MatchResult.async(8));
        h.scheduler.getNumNewMatchedTokens(r, 0);
        h.child(0).matches.put("r", MatchResult.askLater());
        assertEquals(MatchResult.askLater(), h.scheduler.getNumNewMatchedTokens(r, 0));

        // An engine promising tokens nobody offered now gets an error, and the composite reports
        // the request received itself (on every rank), so its blocks cannot be held forever.
        var e = assertThrows(IllegalStateException.class, () -> h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 8));
        assertTrue(e.getMessage().contains("no child offered them"), e.getMessage());
        for (FakeScheduler child : h.children) {
            assertTrue(child.calls("updateStateAfterAlloc").getLast().endsWith(":0"), child.name + " loads nothing");
        }
        ConnectorOutput out = h.step();
        assertEquals(Set.of("r"), out.finishedReceiving());
        assertEquals(Set.of(), h.child(0).lastOutput().finishedReceiving());
        assertEquals(Set.of(), h.child(1).lastOutput().finishedReceiving());
    }

    @Test
    void aFinishedRequestForgetsItsChoice() {
        Harness h = new Harness(1, "a", "b");
        var r = Harness.request("r");
        h.child(0).matches.put("r", MatchResult.sync(8));
        h.scheduler.getNumNewMatchedTokens(r, 0);
        h.finish("r");
        assertThrows(IllegalStateException.class, () -> h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 8));
    }

    @Test
    void everyChildIsAskedEvenWhenEarlierOnesThrowAndTheErrorsComeBackTogether() {
        Harness h = new Harness(1, "a", "b", "c");
        h.child(0).throwIn.add("getNumNewMatchedTokens");
        h.child(1).throwIn.add("getNumNewMatchedTokens");
        h.child(2).matches.put("r", MatchResult.sync(8));

        var e = assertThrows(
                ChildFailedException.class, () -> h.scheduler.getNumNewMatchedTokens(Harness.request("r"), 0));
        assertEquals("0:a", e.child());
        assertTrue(e.getMessage().contains("child connector 0:a failed in getNumNewMatchedTokens"), e.getMessage());
        assertEquals(1, e.getSuppressed().length);
        var second = assertInstanceOf(ChildFailedException.class, e.getSuppressed()[0]);
        assertEquals("1:b", second.child());
        assertEquals(1, h.child(2).calls("getNumNewMatchedTokens").size(), "c was still asked");

        // The same for a hook about a request that returns nothing: every child, then one exception.
        h.child(0).throwIn.add("updateStateAfterAlloc");
        var alloc = assertThrows(
                ChildFailedException.class,
                () -> h.scheduler.updateStateAfterAlloc(Harness.request("r"), BLOCKS, 0, 0));
        assertEquals("0:a", alloc.child());
        assertEquals(1, h.child(2).calls("updateStateAfterAlloc").size());
        h.child(1).throwIn.add("onNewRequest");
        h.child(2).throwIn.add("onNewRequest");
        var added = assertThrows(ChildFailedException.class, () -> h.scheduler.onNewRequest(Harness.request("s")));
        assertEquals("1:b", added.child());
        assertEquals("2:c", ((ChildFailedException) added.getSuppressed()[0]).child());
        assertEquals(1, h.child(0).calls("onNewRequest").size());
    }

    @Test
    void theChosenChildsFailedBuildFailsOnlyItsOwnLoadsAndTheOthersOrdersStillGoOut() {
        Harness h = new Harness(2, "a", "b");
        var r1 = Harness.request("r1");
        var r2 = Harness.request("r2");
        h.child(0).matches.put("r1", MatchResult.async(8)); // a loads r1 asynchronously
        h.child(1).matches.put("r2", MatchResult.sync(4)); // b loads r2 synchronously
        h.scheduler.getNumNewMatchedTokens(r1, 4);
        h.scheduler.updateStateAfterAlloc(r1, BlockIds.of(21, 22, 23, 24), 4, 8);
        h.scheduler.getNumNewMatchedTokens(r2, 0);
        h.scheduler.updateStateAfterAlloc(r2, BlockIds.of(31, 32), 0, 4);
        h.child(0).throwIn.add("buildConnectorMetadata");
        var bSlot = new Orders("b");
        h.child(1).metadata = bSlot;

        ConnectorOutput out = h.step();

        MultiMetadata meta = h.lastMulti();
        assertEquals(ConnectorMetadata.NONE, meta.child(0));
        assertEquals(bSlot, meta.child(1), "b's orders still reach the workers");
        for (int rank = 0; rank < 2; rank++) {
            assertEquals(bSlot, h.worker(rank, 1).bound.getLast());
        }
        assertEquals(Set.of(22, 23), out.invalidBlockIds(), "a's load of r1 (tokens 4..12) is reported failed");
        assertEquals(
                Set.of("r1"), out.finishedReceiving(), "and its request received, so the engine applies its policy");
        assertEquals(Set.of("r1"), h.child(0).lastOutput().finishedReceiving(), "a learns its load ended");
        assertEquals(Set.of(22, 23), h.child(0).lastOutput().invalidBlockIds());
        assertEquals(Set.of(), h.child(1).lastOutput().invalidBlockIds(), "b's sync load is not touched");
        var failure = assertInstanceOf(
                ChildFailedException.class,
                h.schedulerFailures.getFirst(),
                "the failure surfaces in the step's updateConnectorOutput");
        assertEquals("0:a", failure.child());
        assertEquals("buildConnectorMetadata", failure.hook());
    }

    @Test
    void aRequestsOwnTransferParametersAreShownToEachChild() {
        Harness h = new Harness(1, "nixl", "offload");
        var params = TransferParams.of(Map.of(
                "0:nixl", Map.of("remote_engine", "p1", "blocks", List.of(1L, 2L)),
                "1:offload", Map.of("hint", true)));
        var r = Harness.request("r", 64, params);
        h.scheduler.onNewRequest(r);
        assertEquals(
                "p1",
                h.child(0)
                        .seenRequests
                        .getLast()
                        .transferParams()
                        .getString("remote_engine")
                        .orElseThrow());
        assertTrue(h.child(1).seenRequests.getLast().transferParams().getFlag("hint"));
        assertEquals("r", h.child(0).seenRequests.getLast().requestId());

        // Parameters of a single connector (no object under the child's key) are shown as they are.
        var plain = Harness.request("p", 64, TransferParams.of(Map.of("remote_engine", "p2")));
        h.scheduler.onNewRequest(plain);
        assertEquals(plain, h.child(0).seenRequests.getLast(), "passed through, not wrapped");

        // The scheduler view shows them the same way.
        h.state.waiting().add(r);
        var seen = h.child(1).state.findRequest("r").orElseThrow();
        assertTrue(seen.transferParams().getFlag("hint"));
        assertTrue(
                h.child(1).state.waitingRequests().getFirst().transferParams().getFlag("hint"));
        assertEquals(Optional.empty(), h.child(0).state.findRequest("nobody"));
    }

    @Test
    void parametersFromAnEngineOrderingItsChildrenDifferentlyReachTheChildOfTheSameConnector() {
        // Found by MultiDisaggLifecycleTest.enginesOrderingTheirChildrenDifferentlyStillTransfer:
        // the prefill engine ran [nixl-like, offload], the decode engine [offload, nixl-like]; the
        // decode side's 1:nixl-like was shown the whole {"0:nixl-like": ...} wrapper, found no remote
        // parameters and computed locally, leaving the producer's blocks to its lease.
        Harness h = new Harness(1, "offload", "nixl", "multi");
        var r = Harness.request(
                "r",
                64,
                TransferParams.of(Map.of("0:nixl", Map.of("remote_engine", "p1"), "1:multi", Map.of("inner", true))));
        h.scheduler.onNewRequest(r);
        assertEquals(
                "p1",
                h.child(1)
                        .seenRequests
                        .getLast()
                        .transferParams()
                        .getString("remote_engine")
                        .orElseThrow());
        assertTrue(h.child(2).seenRequests.getLast().transferParams().getFlag("inner"), "the exact key still wins");
        assertEquals(r, h.child(0).seenRequests.getLast(), "no part for offload: shown as it is");

        // Two parts for one connector type and none under the child's own key: nothing is guessed.
        var two = Harness.request(
                "t",
                64,
                TransferParams.of(
                        Map.of("0:nixl", Map.of("remote_engine", "a"), "2:nixl", Map.of("remote_engine", "b"))));
        h.scheduler.onNewRequest(two);
        assertEquals(two, h.child(1).seenRequests.getLast());
        // A key that only ends like the child's (no index before the colon) is not the same connector.
        var odd = Harness.request("o", 64, TransferParams.of(Map.of("x:nixl", Map.of("remote_engine", "c"))));
        h.scheduler.onNewRequest(odd);
        assertEquals(odd, h.child(1).seenRequests.getLast());
    }

    @Test
    void workerMetadataTypesStayWithTheirChild() {
        // A child that refuses a foreign type (as real connectors do) never sees its sibling's.
        Harness h = new Harness(2, "a", "b");
        h.worker(0, 0).metadata = Optional.of(Tags.of("a", "x"));
        h.worker(1, 1).metadata = Optional.of(Tags.of("b", "y"));
        h.step();
        assertEquals(
                Optional.of((WorkerMetadata) Tags.of("a", "x")),
                h.child(0).lastOutput().workerMetadata());
        assertEquals(
                Optional.of((WorkerMetadata) Tags.of("b", "y")),
                h.child(1).lastOutput().workerMetadata());
        assertEquals(List.of(), h.schedulerFailures);
    }
}
