package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Each child uses its own pool view; children's block references stay apart. */
class PoolViewTest {
    @Test
    void aChildCannotFreeAReferenceItsSiblingTook() {
        Harness h = new Harness(1, "a", "b");
        var a = h.child(0).state.gpuBlockPool();
        var b = h.child(1).state.gpuBlockPool();
        assertNotSame(a, b);

        a.touch(5, 5, 6);
        b.touch(6);
        assertEquals(2, h.pool.heldReferences(5), "the engine counts the composite's references");
        assertEquals(2, h.pool.heldReferences(6));
        assertEquals(2, a.heldReferences(5));
        assertEquals(0, b.heldReferences(5));
        assertEquals(1, b.heldReferences(6));

        var e = assertThrows(IllegalStateException.class, () -> b.free(5));
        assertEquals(true, e.getMessage().contains("1:b"), e.getMessage());
        assertEquals(2, h.pool.heldReferences(5), "nothing was freed");
        assertThrows(IllegalStateException.class, () -> b.free(6, 6), "more than it holds: nothing freed");
        assertEquals(1, b.heldReferences(6));

        a.free(5, 6);
        b.free(6);
        assertEquals(1, a.heldReferences(5));
        assertEquals(0, h.pool.heldReferences(6));
        assertEquals(1, h.scheduler.poolView(0).totalHeld());
        assertEquals(0, h.scheduler.poolView(1).totalHeld());
    }

    @Test
    void referencesTheEngineTookBackFromTheCompositeAreNoLongerAChildsToFree() {
        Harness h = new Harness(1, "a", "b");
        var a = h.child(0).state.gpuBlockPool();
        var b = h.child(1).state.gpuBlockPool();
        a.touch(5, 6);
        b.touch(6);

        long generation = a.referenceGeneration();

        // The engine takes back every reference of a connector that made no progress for its
        // timeout: through the composite's own view, which is all it counts.
        h.pool.takeBackAll();

        assertEquals(generation + 1, a.referenceGeneration(), "each child learns of the composite's take-back");
        assertEquals(generation + 1, b.referenceGeneration());

        assertEquals(0, a.heldReferences(5), "a child that frees lazily asks first, and must be told 0");
        assertEquals(0, a.heldReferences(6));
        assertEquals(0, b.heldReferences(6));
        assertThrows(IllegalStateException.class, () -> a.free(5), "freeing what the engine took back is refused");
        assertEquals(0, h.scheduler.poolView(0).totalHeld());

        // A reference taken after the take-back is the toucher's alone, not a sibling's stale one.
        b.touch(6);
        assertEquals(1, b.heldReferences(6));
        assertEquals(0, a.heldReferences(6));
        assertThrows(IllegalStateException.class, () -> a.free(6));
        assertFalse(a.freeIfNotTakenBack(generation, 5, 6), "a store of the old generation frees nothing");
        assertEquals(1, b.heldReferences(6));
        assertTrue(b.freeIfNotTakenBack(generation + 1, 6), "through the child's own count");
        assertEquals(0, h.pool.heldReferences(6));
    }

    @Test
    void childrenShareTheCompositesReferenceCap() {
        Harness h = new Harness(1, "a", "b");
        var a = h.child(0).state.gpuBlockPool();
        var b = h.child(1).state.gpuBlockPool();

        a.touch(1, 2, 3);
        b.touch(3);

        assertEquals(Harness.BLOCKS - 4, a.availableReferences(), "the engine caps the composite as one connector");
        assertEquals(Harness.BLOCKS - 4, b.availableReferences());
    }

    @Test
    void aRejectedTouchCountsNothing() {
        Harness h = new Harness(1, "a", "b");
        var a = h.child(0).state.gpuBlockPool();
        assertThrows(IllegalArgumentException.class, () -> a.touch(3, 999));
        assertEquals(0, a.heldReferences(3));
        assertEquals(0, h.pool.heldReferences(3));
    }

    @Test
    void everythingElseIsTheEnginesView() {
        Harness h = new Harness(1, "a", "b");
        var a = h.child(0).state;
        assertEquals(Harness.BLOCKS, a.gpuBlockPool().numBlocks());
        a.gpuBlockPool().touch(1);
        assertEquals(Harness.BLOCKS - 1, a.gpuBlockPool().numFreeBlocks());
        assertEquals(Optional.of(new BlockHash(7, 7, 7, 7)), a.gpuBlockPool().cachedHash(7));
        List<Integer> seen = new ArrayList<>();
        a.gpuBlockPool().forEachCachedBlock((id, hash, free) -> seen.add(id));
        assertEquals(List.of(7), seen);
        h.state.setStep(9);
        assertEquals(9, a.step());
        assertEquals(4, a.blockSize());
        assertEquals(false, a.asyncScheduling());
        var x = Harness.request("x");
        h.state.running().add(x);
        assertEquals(List.of(x), a.runningRequests());
    }
}
