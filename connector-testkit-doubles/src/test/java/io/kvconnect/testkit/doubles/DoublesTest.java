package io.kvconnect.testkit.doubles;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The doubles keep the promises their javadoc makes. */
class DoublesTest {
    private static final KvLayout LAYOUT = new KvLayout(
            new ModelShape("tiny", 2, 2, 16, DType.FP16), 0, 1, 100, 16, 2048, LayoutKind.PER_LAYER, MemoryKind.HOST);

    @Test
    void aRequestHasItsTokensAndSyntheticHashesAndMovesOnWhenTheTestSaysSo() {
        FakeRequest r = FakeRequest.builder("a")
                .countingTokens(10)
                .syntheticBlockHashes(4)
                .maxTokens(8)
                .build();

        assertEquals(10, r.numTokens());
        assertEquals(10, r.numPromptTokens());
        assertEquals(3, r.tokenId(3));
        assertArrayEquals(new int[] {2, 3, 4}, r.tokenIds(2, 5));
        assertEquals(
                List.of(new BlockHash("a".hashCode(), 0, 0, 0), new BlockHash("a".hashCode(), 1, 0, 0)),
                r.blockHashes(),
                "one per full block");
        assertEquals(r.blockHashes().get(1), r.blockHash(1));
        assertEquals(8, r.maxTokens());
        assertEquals(RequestStatus.WAITING, r.status());
        assertEquals(0, r.numComputedTokens());

        r.setNumComputedTokens(8);
        r.setStatus(RequestStatus.RUNNING);
        assertEquals(8, r.numComputedTokens());
        assertEquals(RequestStatus.RUNNING, r.status());
        assertThrows(IllegalArgumentException.class, () -> r.setNumComputedTokens(11));
        assertThrows(IndexOutOfBoundsException.class, () -> r.tokenId(10));
        assertNotEquals(r, FakeRequest.builder("a").countingTokens(10).build(), "identity, as the engine's requests");
    }

    @Test
    void aRequestTakesGivenTokensHashesAndSalt() {
        List<BlockHash> hashes = List.of(new BlockHash(1, 2, 3, 4));
        FakeRequest r = FakeRequest.builder("b")
                .tokens(7, 8, 9, 10)
                .blockHashes(hashes)
                .cacheSalt(Optional.of("s"))
                .priority(3)
                .build();

        assertArrayEquals(new int[] {7, 8, 9, 10}, r.tokenIds(0, 4));
        assertEquals(hashes, r.blockHashes());
        assertEquals(Optional.of("s"), r.cacheSalt());
        assertEquals(3, r.priority());
        assertEquals("b[7, 8, 9, 10]", r.toString());
    }

    @Test
    void thePoolCountsReferencesAndARefusedCallChangesNothing() {
        FakeBlockPool pool = new FakeBlockPool(8, 3).cache(5, new BlockHash(5, 5, 5, 5));

        pool.touch(1, 1, 2);
        assertEquals(2, pool.heldReferences(1));
        assertEquals(3, pool.totalHeld());
        assertEquals(0, pool.availableReferences());
        assertEquals(6, pool.numFreeBlocks());
        assertThrows(IllegalStateException.class, () -> pool.touch(3), "beyond the cap");
        assertThrows(IllegalArgumentException.class, () -> pool.touch(0), "the null block");
        assertThrows(IllegalArgumentException.class, () -> pool.touch(9));
        assertThrows(IllegalStateException.class, () -> pool.free(2, 2), "one more than held");
        assertEquals(1, pool.heldReferences(2), "nothing was freed");

        pool.free(1, 2);
        assertEquals(1, pool.heldReferences(1));
        assertEquals(0, pool.heldReferences(2));
        assertEquals(2, pool.availableReferences());
        assertEquals(Optional.of(new BlockHash(5, 5, 5, 5)), pool.cachedHash(5));
        List<String> seen = new ArrayList<>();
        pool.forEachCachedBlock((id, hash, free) -> seen.add(id + ":" + free));
        assertEquals(List.of("5:true"), seen);
    }

    @Test
    void aTakeBackLeavesTheConnectorNothingToFreeAndTheBlocksFreeToTouchAgain() {
        FakeBlockPool pool = new FakeBlockPool(8, 3);
        pool.touch(1, 1, 2);

        pool.takeBackAll();
        assertEquals(0, pool.heldReferences(1));
        assertEquals(0, pool.totalHeld());
        assertEquals(3, pool.availableReferences());
        assertThrows(IllegalStateException.class, () -> pool.free(2), "taken back, no longer held");

        pool.touch(1); // a later store
        assertEquals(1, pool.heldReferences(1));
        assertEquals(1, pool.totalHeld());
    }

    @Test
    void aConnectorFreesOnlyReferencesOfTheGenerationItTookThemIn() {
        FakeBlockPool pool = new FakeBlockPool(8, 4);
        long early = pool.referenceGeneration();
        pool.touch(1, 2);
        pool.takeBackAll();
        long later = pool.referenceGeneration();
        pool.touch(1); // a later store holds block 1 again

        assertFalse(pool.freeIfNotTakenBack(early, 1, 2), "taken back: not the connector's to free");
        assertEquals(1, pool.heldReferences(1), "the later store's reference stays");
        assertTrue(pool.freeIfNotTakenBack(later, 1));
        assertEquals(0, pool.totalHeld());
    }

    @Test
    void theStateReturnsCopiesOfTheListsTheTestChanges() {
        FakeBlockPool pool = new FakeBlockPool(4);
        FakeSchedulerState state = new FakeSchedulerState(16, pool);
        FakeRequest w = FakeRequest.builder("w").build();
        FakeRequest r = FakeRequest.builder("r").build();

        state.waiting().add(w);
        state.running().add(r);
        state.setStep(7);
        state.setAsyncScheduling(true);

        assertEquals(List.of(w), state.waitingRequests());
        assertEquals(List.of(r), state.runningRequests());
        assertEquals(Optional.of(r), state.findRequest("r"));
        assertEquals(Optional.empty(), state.findRequest("x"));
        assertEquals(7, state.step());
        assertTrue(state.asyncScheduling());
        assertEquals(16, state.blockSize());
        assertEquals(pool, state.gpuBlockPool());
        assertThrows(UnsupportedOperationException.class, () -> state.runningRequests()
                .clear());
    }

    @Test
    void theOutputSumsTheScheduledTokens() {
        FakeRequest a = FakeRequest.builder("a").countingTokens(8).build();
        var out = new FakeSchedulerOutput(
                3,
                List.of(new ScheduledRequest(a, ScheduledRequest.Kind.NEW, 5, 0, BlockIds.of(1, 2))),
                Set.of(),
                Set.of("z"));

        assertEquals(5, out.totalScheduledTokens());
        assertEquals(0, FakeSchedulerOutput.of(4, List.of()).totalScheduledTokens());
    }

    @Test
    void theViewsIndexAccessorsReadTheListByDefault() {
        FakeRequest a = FakeRequest.builder("a").countingTokens(8).build();
        FakeRequest b = FakeRequest.builder("b").countingTokens(20).build();
        var out = FakeSchedulerOutput.of(
                3,
                List.of(
                        new ScheduledRequest(a, ScheduledRequest.Kind.NEW, 5, 0, BlockIds.of(1, 2)),
                        new ScheduledRequest(b, ScheduledRequest.Kind.RESUMED, 7, 16, BlockIds.of(3))));

        assertEquals(2, out.numScheduledRequests());
        assertSame(a, out.requestAt(0));
        assertSame(b, out.requestAt(1));
        assertEquals(ScheduledRequest.Kind.NEW, out.kindAt(0));
        assertEquals(ScheduledRequest.Kind.RESUMED, out.kindAt(1));
        assertEquals(7, out.numScheduledTokensAt(1));
        assertEquals(16, out.numComputedTokensBeforeAt(1));
        assertThrows(IndexOutOfBoundsException.class, () -> out.requestAt(2));
        assertThrows(IndexOutOfBoundsException.class, () -> out.kindAt(-1));
    }

    @Test
    void copiesStayInFlightUntilTheTestEndsThem() throws Exception {
        ManualCopyService copies = new ManualCopyService(LAYOUT);
        var buffer = copies.allocateHostBuffer(4);
        assertEquals(List.of(4), copies.allocatedSlots());
        assertEquals(LAYOUT.bytesPerBlock(), buffer.slotBytes());

        var store = copies.copyToHost(new int[] {3, 4}, buffer, new int[] {0, 1});
        var load = copies.copyFromHost(buffer, new int[] {1}, new int[] {9});
        assertEquals(2, copies.tickets().size());
        assertTrue(copies.ticket(0).toHost());
        assertArrayEquals(new int[] {9}, copies.ticket(1).blockIds());
        assertEquals(2 * LAYOUT.bytesPerBlock(), store.bytes());
        assertFalse(store.isDone());
        assertFalse(store.await(Duration.ofMillis(1)));

        copies.ticket(0).complete();
        copies.ticket(1).fail();
        store.await();
        assertFalse(store.failed());
        assertTrue(load.failed());
        assertThrows(CopyFailedException.class, load::await);
        assertFalse(copies.allBuffersClosed());
        buffer.close();
        assertTrue(copies.allBuffersClosed());
    }

    @Test
    void aRefusingServiceFailsTheTestOnAnyCopy() {
        var refusing = ManualCopyService.refusing(LAYOUT);

        assertEquals(LAYOUT, refusing.layout());
        assertThrows(AssertionError.class, () -> refusing.allocateHostBuffer(1));
        assertThrows(AssertionError.class, () -> refusing.copyToHost(new int[] {1}, null, new int[] {0}));
        assertThrows(AssertionError.class, () -> refusing.copyFromHost(null, new int[] {0}, new int[] {1}));
        assertThrows(AssertionError.class, () -> refusing.openSend(new int[] {1}));
    }

    @Test
    void aManualServiceSendsNothingDirectlySoTheConnectorCopies() throws Exception {
        assertTrue(new ManualCopyService(LAYOUT).openSend(new int[] {1}).isEmpty());
    }
}
