package com.example.disktier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scheduler side's table: states, pins and least-recently-used eviction at capacity. */
class DiskIndexTest {
    private static final BlockHash A = hash(1);
    private static final BlockHash B = hash(2);
    private static final BlockHash C = hash(3);
    private static final BlockHash D = hash(4);

    private final List<BlockHash> evicted = new ArrayList<>();

    @Test
    void aBlockIsReadyOnlyOnceItsOwnStoreCompleted() {
        var index = new DiskIndex(4);
        assertTrue(index.beginStore(A, "r1", evicted));
        assertTrue(index.contains(A));
        assertFalse(index.isReady(A), "writing");
        assertFalse(index.beginStore(A, "r2", evicted), "held already");
        assertFalse(index.completeStore(A, "r2"), "another request's store does not complete it");
        assertTrue(index.completeStore(A, "r1"));
        assertTrue(index.isReady(A));

        assertTrue(index.beginStore(B, "r1", evicted));
        assertFalse(index.abortStore(B, "r2"));
        assertTrue(index.abortStore(B, "r1"));
        assertFalse(index.contains(B));
        assertEquals(List.of(), evicted);
    }

    @Test
    void atCapacityTheLeastRecentlyUsedReadyBlockIsEvicted() {
        var index = ready(3, A, B, C);
        index.touch(A); // B is now the least recently used

        assertTrue(index.beginStore(D, "r", evicted));

        assertEquals(List.of(B), evicted);
        assertEquals(3, index.size());
        assertTrue(index.isReady(A));
        assertFalse(index.contains(B));
    }

    @Test
    void writingAndPinnedBlocksAreNeverEvicted() {
        var index = ready(2, A);
        assertTrue(index.beginStore(B, "r", evicted));
        index.pin(A);

        assertFalse(index.beginStore(C, "r", evicted), "A is pinned, B is being written");
        assertEquals(List.of(), evicted);

        index.unpin(A);
        assertTrue(index.beginStore(C, "r", evicted));
        assertEquals(List.of(A), evicted);
    }

    @Test
    void aBadFileFoundWhilePinnedLeavesAtTheLastUnpin() {
        var index = ready(4, A, B);
        assertTrue(index.drop(B), "unpinned: gone at once");
        assertFalse(index.contains(B));

        index.pin(A);
        index.pin(A);
        assertFalse(index.drop(A), "pinned: a planned load still reads it");
        assertFalse(index.isReady(A), "but it is never offered again");
        assertFalse(index.unpin(A));
        assertTrue(index.unpin(A), "the last pin removes it");
        assertFalse(index.contains(A));
        assertThrows(IllegalStateException.class, () -> index.unpin(A));
        assertThrows(IllegalStateException.class, () -> index.pin(C), "only ready blocks are pinned");
    }

    private DiskIndex ready(int capacity, BlockHash... hashes) {
        var index = new DiskIndex(capacity);
        for (BlockHash h : hashes) {
            assertTrue(index.beginStore(h, "setup", evicted));
            assertTrue(index.completeStore(h, "setup"));
        }
        return index;
    }

    private static BlockHash hash(int i) {
        return new BlockHash(i, 0, 0, 0);
    }
}
