package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.scheduler.MatchResult;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Loads composed across children: each child is asked from where the runs before it end, told
 * exactly its own part, and an asynchronous load several children perform is received once every
 * one of them finished. Blocks of 4 tokens ({@link Harness}).
 */
class LoadCompositionTest {
    /** Blocks of tokens [0, 4), [4, 8), ... [20, 24). */
    private static final BlockIds BLOCKS = BlockIds.of(11, 12, 13, 14, 15, 16);

    @Test
    void aLaterChildIsAskedFromWhereTheEarlierRunEndsAndTheRunsAddUp() {
        Harness h = new Harness(1, "a", "b", "c");
        h.child(0).matches.put("r", MatchResult.sync(8)); // [4, 12)
        h.child(1).matches.put("r", MatchResult.sync(8)); // [12, 20)
        var r = Harness.request("r");

        assertEquals(MatchResult.sync(16), h.scheduler.getNumNewMatchedTokens(r, 4));
        assertEquals(List.of("getNumNewMatchedTokens:r:4"), h.child(0).calls("getNumNewMatchedTokens"));
        assertEquals(List.of("getNumNewMatchedTokens:r:12"), h.child(1).calls("getNumNewMatchedTokens"));
        assertEquals(
                List.of("getNumNewMatchedTokens:r:20"),
                h.child(2).calls("getNumNewMatchedTokens"),
                "a child without a hit is still asked, from the end of the runs before it");

        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 4, 16);
        assertEquals(
                List.of("updateStateAfterAlloc:r:" + BLOCKS + ":4:8"),
                h.child(0).calls("updateStateAfterAlloc"));
        assertEquals(
                List.of("updateStateAfterAlloc:r:" + BLOCKS + ":12:8"),
                h.child(1).calls("updateStateAfterAlloc"),
                "b loads its own run: the prefix it was asked at, its own tokens");
        assertEquals(
                List.of("updateStateAfterAlloc:r:" + BLOCKS + ":20:0"),
                h.child(2).calls("updateStateAfterAlloc"));
    }

    @Test
    void aChildWithoutAHitLetsTheNextOneGoOnFromTheSamePrefix() {
        Harness h = new Harness(1, "a", "b");
        h.child(1).matches.put("r", MatchResult.sync(8));
        var r = Harness.request("r");
        assertEquals(MatchResult.sync(8), h.scheduler.getNumNewMatchedTokens(r, 4));
        assertEquals(List.of("getNumNewMatchedTokens:r:4"), h.child(1).calls("getNumNewMatchedTokens"));
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 4, 8);
        assertEquals(
                List.of("updateStateAfterAlloc:r:" + BLOCKS + ":4:0"),
                h.child(0).calls("updateStateAfterAlloc"));
        assertEquals(
                List.of("updateStateAfterAlloc:r:" + BLOCKS + ":4:8"),
                h.child(1).calls("updateStateAfterAlloc"));
    }

    @Test
    void anOfferTheEngineTrimsIsCutFromTheEndOfTheLastRuns() {
        Harness h = new Harness(1, "a", "b");
        var r = Harness.request("r");
        h.child(0).matches.put("r", MatchResult.sync(8)); // [0, 8)
        h.child(1).matches.put("r", MatchResult.sync(8)); // [8, 16)

        h.scheduler.getNumNewMatchedTokens(r, 0);
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 10);
        assertEquals(
                "updateStateAfterAlloc:r:" + BLOCKS + ":0:8",
                h.child(0).calls("updateStateAfterAlloc").getLast());
        assertEquals(
                "updateStateAfterAlloc:r:" + BLOCKS + ":8:2",
                h.child(1).calls("updateStateAfterAlloc").getLast());

        h.scheduler.getNumNewMatchedTokens(r, 0);
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 6);
        assertEquals(
                "updateStateAfterAlloc:r:" + BLOCKS + ":0:6",
                h.child(0).calls("updateStateAfterAlloc").getLast());
        assertEquals(
                "updateStateAfterAlloc:r:" + BLOCKS + ":8:0",
                h.child(1).calls("updateStateAfterAlloc").getLast(),
                "a run the engine trimmed away loads nothing");
    }

    @Test
    void aRunEndingInsideABlockEndsTheComposition() {
        Harness h = new Harness(1, "a", "b");
        var r = Harness.request("r");
        h.child(0).matches.put("r", MatchResult.sync(6)); // [0, 6): ends inside block 1
        h.child(1).matches.put("r", MatchResult.sync(8));

        assertEquals(MatchResult.sync(6), h.scheduler.getNumNewMatchedTokens(r, 0));
        assertEquals(
                List.of("getNumNewMatchedTokens:r:4"),
                h.child(1).calls("getNumNewMatchedTokens"),
                "asked at the last block boundary, and its answer is not used");
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 6);
        assertEquals(
                "updateStateAfterAlloc:r:" + BLOCKS + ":4:0",
                h.child(1).calls("updateStateAfterAlloc").getLast());
    }

    @Test
    void runsOfTheOtherModeAndRunsAfterAskLaterAreNotAppended() {
        Harness h = new Harness(1, "a", "b", "c");
        var r = Harness.request("r");
        h.child(0).matches.put("r", MatchResult.sync(8));
        h.child(1).matches.put("r", MatchResult.async(8));
        h.child(2).matches.put("r", MatchResult.sync(8));
        assertEquals(
                MatchResult.sync(8),
                h.scheduler.getNumNewMatchedTokens(r, 0),
                "an asynchronous run ends a synchronous composition; nothing after it is appended");

        h.child(1).matches.put("r", MatchResult.askLater());
        assertEquals(
                MatchResult.sync(8),
                h.scheduler.getNumNewMatchedTokens(r, 0),
                "ask later after a run ends the composition without holding the run back");

        h.child(0).matches.put("r", MatchResult.none());
        assertEquals(
                MatchResult.askLater(),
                h.scheduler.getNumNewMatchedTokens(r, 0),
                "ask later before any run defers the request");
    }

    @Test
    void aComposedAsynchronousLoadIsReceivedOnceEveryLoaderReportedOnEveryRank() {
        Harness h = new Harness(2, "a", "b");
        var r = Harness.request("r");
        h.child(0).matches.put("r", MatchResult.async(8));
        h.child(1).matches.put("r", MatchResult.async(8));
        assertEquals(MatchResult.async(16), h.scheduler.getNumNewMatchedTokens(r, 0));
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 16);

        // a finishes first on both ranks: the request is not received yet.
        h.worker(0, 0).receiving = Set.of("r");
        h.worker(1, 0).receiving = Set.of("r");
        ConnectorOutput first = h.step();
        assertEquals(Set.of("r"), h.lastMulti().composedLoads().keySet());
        assertEquals(Set.of(), first.finishedReceiving(), "b is still loading into its blocks");
        assertEquals(1, h.scheduler.awaitedTransfers());

        h.worker(0, 1).receiving = Set.of("r");
        h.worker(1, 1).receiving = Set.of("r");
        ConnectorOutput second = h.step();
        assertEquals(Set.of("r"), second.finishedReceiving());
        assertEquals(Set.of("r"), h.child(0).lastOutput().finishedReceiving(), "each loader is told");
        assertEquals(Set.of("r"), h.child(1).lastOutput().finishedReceiving());
        assertEquals(0, h.scheduler.awaitedTransfers());
        assertEquals(0, h.workerSides.get(0).awaitedReceives());
        assertEquals(0, h.workerSides.get(1).awaitedReceives());
    }

    @Test
    void aComposedLoadInRelayModeIsReleasedOnceEveryLoadersCountCompleted() {
        Harness h = new Harness(2, "a", "b");
        h.child(1).expected = OptionalInt.of(1); // b's transfers are reported by one worker
        assertEquals(1, h.expected(), "relay mode");
        var r = Harness.request("r");
        h.child(0).matches.put("r", MatchResult.async(8));
        h.child(1).matches.put("r", MatchResult.async(8));
        h.scheduler.getNumNewMatchedTokens(r, 0);
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 16);

        h.worker(1, 1).receiving = Set.of("r"); // b: one report is its count
        h.worker(0, 0).receiving = Set.of("r"); // a: one of two
        h.step();
        assertEquals(Set.of("r"), h.child(1).lastOutput().finishedReceiving(), "b's own count completed");
        assertEquals(Set.of(), h.child(0).lastOutput().finishedReceiving());

        h.worker(1, 0).receiving = Set.of("r");
        h.step(); // a completes: the composite releases the request
        assertEquals(Set.of("r"), h.child(0).lastOutput().finishedReceiving());
        ConnectorOutput released = h.step();
        assertEquals(Set.of("r"), released.finishedReceiving(), "relayed by rank 0 one step later");
        assertEquals(0, h.scheduler.awaitedTransfers());
    }

    @Test
    void aFailingChildFailsOnlyItsOwnBlocks() {
        Harness h = new Harness(1, "a", "b");
        var r = Harness.request("r");
        h.child(0).matches.put("r", MatchResult.async(8)); // blocks 11, 12
        h.child(1).matches.put("r", MatchResult.async(8)); // blocks 13, 14
        h.scheduler.getNumNewMatchedTokens(r, 0);
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 16);

        h.worker(0, 0).receiving = Set.of("r");
        h.worker(0, 1).receiving = Set.of("r");
        h.worker(0, 1).loadErrors = Set.of(14);
        ConnectorOutput out = h.step();

        assertEquals(Set.of("r"), out.finishedReceiving());
        assertEquals(Set.of(14), out.invalidBlockIds(), "the engine keeps a's blocks and b's first one");
        assertEquals(Set.of(), h.child(0).lastOutput().invalidBlockIds());
        assertEquals(Set.of(14), h.child(1).lastOutput().invalidBlockIds());
    }

    @Test
    void aChildWhoseOrdersAreLostHasOnlyItsPartCancelled() {
        Harness h = new Harness(1, "a", "b");
        var r = Harness.request("r");
        h.child(0).matches.put("r", MatchResult.async(8)); // blocks 11, 12
        h.child(1).matches.put("r", MatchResult.async(8)); // blocks 13, 14
        h.scheduler.getNumNewMatchedTokens(r, 0);
        h.scheduler.updateStateAfterAlloc(r, BLOCKS, 0, 16);
        h.child(1).throwIn.add("buildConnectorMetadata");

        ConnectorOutput out = h.step();
        assertEquals(Set.of(13, 14), out.invalidBlockIds(), "b's blocks are reported failed");
        assertEquals(Set.of(), out.finishedReceiving(), "a is still loading: the blocks stay held");
        assertEquals(Set.of(), h.lastMulti().composedLoads().keySet(), "only a's report is awaited");

        h.child(1).throwIn.clear();
        h.worker(0, 0).receiving = Set.of("r");
        assertEquals(Set.of("r"), h.step().finishedReceiving());
        assertEquals(0, h.scheduler.awaitedTransfers());
    }
}
