package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Reference counts, the free queue, the prefix cache and its events. */
class BlockPoolTest {
    private static final int BS = 16;

    /** The pool under test; its structure is checked after every test. */
    private BlockPool pool = new BlockPool(8, BS, true);

    @AfterEach
    void structureHolds() {
        pool.checkStructure();
    }

    private static BlockHash h(long n) {
        return new BlockHash(n, ~n, n * 31, 0x5eed);
    }

    private BlockPool pool(int numBlocks) {
        pool = new BlockPool(numBlocks, BS, true);
        return pool;
    }

    private static KvEvent.BlockStored stored(BlockHash parent, BlockHash... hashes) {
        return new KvEvent.BlockStored(List.of(hashes), Optional.ofNullable(parent), BS, 0, StorageMedium.GPU);
    }

    private static KvEvent.BlockRemoved removed(BlockHash... hashes) {
        return new KvEvent.BlockRemoved(List.of(hashes), 0, StorageMedium.GPU);
    }

    private int[] refCounts() {
        int[] counts = new int[pool.numBlocks()];
        for (int id = 1; id < pool.numBlocks(); id++) {
            counts[id] = pool.refCount(id);
        }
        return counts;
    }

    private BlockHash[] hashes() {
        BlockHash[] out = new BlockHash[pool.numBlocks()];
        for (int id = 1; id < pool.numBlocks(); id++) {
            out[id] = pool.hashOf(id);
        }
        return out;
    }

    // ---- construction and the null block ----

    @Test
    void aNewPoolHasEveryUsableBlockFreeInIdOrder() {
        pool(5);

        assertEquals(5, pool.numBlocks());
        assertEquals(4, pool.usableBlocks());
        assertEquals(4, pool.numFreeBlocks());
        assertEquals(BS, pool.blockSize());
        assertTrue(pool.cachingEnabled());
        assertEquals(0, pool.numCachedBlocks());
        pool.checkStructure();
        assertArrayEquals(new int[] {1, 2, 3, 4}, pool.allocate(4));
        assertEquals(0, pool.numFreeBlocks());
        pool.checkStructure();
    }

    @Test
    void aPoolNeedsTwoBlocks() {
        assertThrows(IllegalArgumentException.class, () -> new BlockPool(1, BS, true));
        assertThrows(IllegalArgumentException.class, () -> new BlockPool(0, BS, true));
        var smallest = new BlockPool(2, BS, true);
        assertEquals(1, smallest.numFreeBlocks());
        assertArrayEquals(new int[] {1}, smallest.allocate(1));
        smallest.checkStructure();
    }

    @Test
    void theNullBlockIsNeverAllocated() {
        for (int id : pool.allocate(pool.numFreeBlocks())) {
            assertTrue(id > 0, "allocated " + id);
        }
        pool.free(3);
        assertArrayEquals(new int[] {3}, pool.allocate(1));
    }

    @Test
    void theNullBlockCannotBeTouchedFreedCachedOrRead() {
        int[] held = pool.allocate(2);
        int[] counts = refCounts();
        int free = pool.numFreeBlocks();

        List<Executable> calls = List.of(
                () -> pool.touch(0),
                () -> pool.free(0),
                () -> pool.free(held[0], 0),
                () -> pool.refCount(0),
                () -> pool.hashOf(0),
                () -> pool.cachedHash(0),
                () -> pool.evict(0),
                () -> pool.cache(new int[] {0}, new BlockHash[] {h(1)}, null));
        for (Executable call : calls) {
            var e = assertThrows(IllegalArgumentException.class, call);
            assertTrue(e.getMessage().contains("null block"), e.getMessage());
        }
        // free(held[0], 0) gave back held[0] before it reached 0 (documented: ids are freed in order).
        counts[held[0]]--;
        assertArrayEquals(counts, refCounts());
        assertEquals(free + 1, pool.numFreeBlocks());
        assertEquals(-1, pool.lookup(h(1)));
        assertEquals(List.of(), pool.takeEvents());
    }

    @Test
    void idsOutsideThePoolAreRejected() {
        for (int id : new int[] {-1, pool.numBlocks(), Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            var e = assertThrows(IllegalArgumentException.class, () -> pool.touch(id));
            assertTrue(e.getMessage().contains("outside"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> pool.free(id));
            assertThrows(IllegalArgumentException.class, () -> pool.refCount(id));
            assertThrows(IllegalArgumentException.class, () -> pool.evict(id));
        }
        assertEquals(7, pool.numFreeBlocks());
    }

    // ---- allocate / free ----

    @Test
    void allocatePopsTheLeastRecentlyFreedBlockFirst() {
        pool.allocate(7);
        pool.free(5);
        pool.free(2);
        pool.free(7, 1);

        assertEquals(4, pool.numFreeBlocks());
        assertArrayEquals(new int[] {5, 2}, pool.allocate(2));
        pool.checkStructure();
        pool.free(4);
        assertArrayEquals(new int[] {7, 1, 4}, pool.allocate(3));
        assertEquals(0, pool.numFreeBlocks());
    }

    @Test
    void aBlockReachesTheQueueOnlyWhenItsLastReferenceIsGone() {
        pool.allocate(7);
        pool.touch(3);
        pool.free(2, 3);
        pool.free(6);

        assertEquals(1, pool.refCount(3));
        assertEquals(2, pool.numFreeBlocks());
        pool.free(3);
        assertArrayEquals(new int[] {2, 6, 3}, pool.allocate(3));
    }

    @Test
    void allocatedBlocksHaveOneReference() {
        int[] ids = pool.allocate(3);

        for (int id : ids) {
            assertEquals(1, pool.refCount(id));
        }
        assertEquals(0, pool.refCount(4));
        assertEquals(4, pool.numFreeBlocks());
        assertArrayEquals(new int[0], pool.allocate(0));
        assertEquals(4, pool.numFreeBlocks());
    }

    @Test
    void allocatingMoreThanIsFreeThrowsAndChangesNothing() {
        pool.allocate(3);
        pool.cache(new int[] {1, 2}, new BlockHash[] {h(1), h(2)}, null);
        pool.free(2, 1);
        pool.takeEvents();
        int[] counts = refCounts();
        BlockHash[] hashes = hashes();

        var e = assertThrows(IllegalStateException.class, () -> pool.allocate(7));
        assertTrue(e.getMessage().contains("6 free"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> pool.allocate(-1));

        pool.checkStructure();
        assertEquals(6, pool.numFreeBlocks());
        assertArrayEquals(counts, refCounts());
        assertArrayEquals(hashes, hashes());
        assertEquals(List.of(), pool.takeEvents(), "nothing was evicted");
        assertArrayEquals(new int[] {4, 5, 6, 7, 2, 1}, pool.allocate(6), "queue order kept");
    }

    @Test
    void freeingAFreeBlockIsADoubleFree() {
        int[] ids = pool.allocate(2);
        pool.free(ids[0]);

        var e = assertThrows(IllegalStateException.class, () -> pool.free(ids[0]));
        assertTrue(e.getMessage().contains("double free"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> pool.free(7));
        pool.checkStructure();
        assertEquals(6, pool.numFreeBlocks());
        assertEquals(0, pool.refCount(ids[0]));
        assertEquals(1, pool.refCount(ids[1]));
    }

    @Test
    void freeingAListStopsAtTheFirstFreeBlock() {
        pool.allocate(7);

        assertThrows(IllegalStateException.class, () -> pool.free(1, 2, 2, 3));
        assertEquals(0, pool.refCount(1));
        assertEquals(0, pool.refCount(2));
        assertEquals(1, pool.refCount(3), "blocks after the double free are untouched");
        assertEquals(2, pool.numFreeBlocks());
    }

    // ---- free order = eviction order ----

    @Test
    void freeOrderIsEvictionOrder() {
        pool(4);
        int[] ids = pool.allocate(3);
        pool.cache(ids, new BlockHash[] {h(10), h(11), h(12)}, null);
        pool.takeEvents();

        pool.free(ids[2], ids[0], ids[1]);
        assertEquals(3, pool.numCachedBlocks(), "free blocks stay cached");

        assertArrayEquals(new int[] {ids[2]}, pool.allocate(1));
        assertEquals(List.of(removed(h(12))), pool.takeEvents());
        assertArrayEquals(new int[] {ids[0]}, pool.allocate(1));
        assertEquals(List.of(removed(h(10))), pool.takeEvents());
        assertEquals(ids[1], pool.lookup(h(11)));
        assertEquals(-1, pool.lookup(h(10)));
        assertEquals(-1, pool.lookup(h(12)));
    }

    @Test
    void allocatingACachedFreeBlockEvictsItsHash() {
        pool(3);
        int[] ids = pool.allocate(1);
        pool.cache(ids, new BlockHash[] {h(1)}, null);
        pool.free(ids);
        pool.takeEvents();

        int[] again = pool.allocate(2);

        assertArrayEquals(new int[] {2, ids[0]}, again);
        assertNull(pool.hashOf(ids[0]));
        assertEquals(Optional.empty(), pool.cachedHash(ids[0]));
        assertEquals(-1, pool.lookup(h(1)));
        assertEquals(0, pool.numCachedBlocks());
        assertEquals(List.of(removed(h(1))), pool.takeEvents());
    }

    // ---- touch ----

    @Test
    void touchingAFreeCachedBlockRevivesIt() {
        pool(4);
        int[] ids = pool.allocate(2);
        pool.cache(ids, new BlockHash[] {h(1), h(2)}, null);
        pool.free(ids[0], ids[1]);
        pool.takeEvents();
        assertEquals(3, pool.numFreeBlocks());

        pool.touch(ids[0]);

        pool.checkStructure();
        assertEquals(1, pool.refCount(ids[0]));
        assertEquals(2, pool.numFreeBlocks());
        assertEquals(h(1), pool.hashOf(ids[0]));
        assertEquals(ids[0], pool.lookup(h(1)));
        // It left the free queue: allocating everything free never hands it out.
        int[] rest = pool.allocate(2);
        assertArrayEquals(new int[] {3, ids[1]}, rest);
        assertEquals(List.of(removed(h(2))), pool.takeEvents(), "only the free cached block was evicted");
        assertEquals(h(1), pool.hashOf(ids[0]));
        assertThrows(IllegalStateException.class, () -> pool.allocate(1));
    }

    @Test
    void touchingAHeldBlockAddsAReference() {
        int[] ids = pool.allocate(1);

        pool.touch(ids[0]);
        pool.touch(ids[0]);

        assertEquals(3, pool.refCount(ids[0]));
        assertEquals(6, pool.numFreeBlocks());
        pool.free(ids[0], ids[0]);
        assertEquals(1, pool.refCount(ids[0]));
        assertEquals(6, pool.numFreeBlocks());
        pool.free(ids[0]);
        assertEquals(7, pool.numFreeBlocks());
    }

    @Test
    void aRevivedBlockReturnsToTheTailWhenFreedAgain() {
        pool(4);
        pool.touch(1);
        pool.free(1);

        assertArrayEquals(new int[] {2, 3, 1}, pool.allocate(3));
    }

    // ---- cache ----

    @Test
    void cachingRecordsOneBlockStoredEvent() {
        int[] ids = pool.allocate(3);

        pool.cache(ids, new BlockHash[] {h(1), h(2), h(3)}, null);

        assertEquals(List.of(stored(null, h(1), h(2), h(3))), pool.takeEvents());
        var event = new KvEvent.BlockStored(List.of(h(1), h(2), h(3)), Optional.empty(), BS, 0, StorageMedium.GPU);
        assertEquals(event, stored(null, h(1), h(2), h(3)), "the helper builds what the contract says");
        assertEquals(3, pool.numCachedBlocks());
        for (int i = 0; i < 3; i++) {
            assertEquals(ids[i], pool.lookup(h(i + 1)));
            assertEquals(h(i + 1), pool.hashOf(ids[i]));
            assertEquals(Optional.of(h(i + 1)), pool.cachedHash(ids[i]));
            assertEquals(1, pool.refCount(ids[i]), "caching takes no reference");
        }
    }

    @Test
    void aContinuedRunNamesItsParent() {
        int[] ids = pool.allocate(3);
        pool.cache(new int[] {ids[0]}, new BlockHash[] {h(1)}, null);

        pool.cache(new int[] {ids[1], ids[2]}, new BlockHash[] {h(2), h(3)}, h(1));

        assertEquals(List.of(stored(null, h(1)), stored(h(1), h(2), h(3))), pool.takeEvents());
    }

    @Test
    void eventsCarryThePoolsBlockSize() {
        pool = new BlockPool(4, 32, true);
        pool.cache(pool.allocate(1), new BlockHash[] {h(1)}, h(0));

        var event = (KvEvent.BlockStored) pool.takeEvents().getFirst();
        assertEquals(32, event.blockSize());
        assertEquals(0, event.group());
        assertEquals(StorageMedium.GPU, event.medium());
        assertEquals(Optional.of(h(0)), event.parent());
    }

    @Test
    void reCachingWithTheSameHashIsANoOp() {
        int[] ids = pool.allocate(2);
        pool.cache(ids, new BlockHash[] {h(1), h(2)}, null);
        pool.takeEvents();

        pool.cache(ids, new BlockHash[] {h(1), h(2)}, null);

        assertEquals(List.of(), pool.takeEvents());
        assertEquals(2, pool.numCachedBlocks());
    }

    @Test
    void aDuplicateHashStaysUncached() {
        int[] ids = pool.allocate(2);
        pool.cache(new int[] {ids[0]}, new BlockHash[] {h(1)}, null);
        pool.takeEvents();

        pool.cache(new int[] {ids[1]}, new BlockHash[] {h(1)}, null);

        assertNull(pool.hashOf(ids[1]));
        assertEquals(ids[0], pool.lookup(h(1)));
        assertEquals(1, pool.numCachedBlocks());
        assertEquals(List.of(), pool.takeEvents());
        // The duplicate is a plain block: freed and reallocated without any event.
        pool.free(ids[1]);
        pool.allocate(6);
        assertEquals(List.of(), pool.takeEvents());
        assertEquals(ids[0], pool.lookup(h(1)));
    }

    @Test
    void aDuplicateInsideARunSplitsItsEvents() {
        int[] first = pool.allocate(1);
        pool.cache(first, new BlockHash[] {h(2)}, h(1));
        pool.takeEvents();
        int[] run = pool.allocate(3);

        pool.cache(run, new BlockHash[] {h(1), h(2), h(3)}, null);

        assertEquals(List.of(stored(null, h(1)), stored(h(2), h(3))), pool.takeEvents());
        assertNull(pool.hashOf(run[1]));
        assertEquals(first[0], pool.lookup(h(2)));
        assertEquals(run[2], pool.lookup(h(3)));
    }

    @Test
    void anAlreadyCachedBlockInsideARunSplitsItsEvents() {
        // A run re-cached after a failed load: its middle block kept its hash, its neighbours lost theirs.
        int[] ids = pool.allocate(3);
        pool.cache(ids, new BlockHash[] {h(1), h(2), h(3)}, h(0));
        pool.evict(ids[0], ids[2]);
        pool.takeEvents();

        pool.cache(ids, new BlockHash[] {h(1), h(2), h(3)}, h(0));

        assertEquals(
                List.of(stored(h(0), h(1)), stored(h(2), h(3))),
                pool.takeEvents(),
                "each event lists consecutive blocks after the parent it names");
        assertEquals(3, pool.numCachedBlocks());
    }

    @Test
    void reCachingABlockWithAnotherHashThrowsAndChangesNothing() {
        int[] ids = pool.allocate(3);
        pool.cache(new int[] {ids[1]}, new BlockHash[] {h(2)}, h(1));
        pool.takeEvents();

        var e = assertThrows(
                IllegalStateException.class, () -> pool.cache(ids, new BlockHash[] {h(1), h(9), h(3)}, null));

        assertTrue(e.getMessage().contains("block " + ids[1]), e.getMessage());
        assertEquals(h(2), pool.hashOf(ids[1]));
        assertNull(pool.hashOf(ids[0]), "blocks before the conflict were not cached");
        assertNull(pool.hashOf(ids[2]));
        assertEquals(-1, pool.lookup(h(1)));
        assertEquals(1, pool.numCachedBlocks());
        assertEquals(List.of(), pool.takeEvents());
    }

    @Test
    void onlyOwnedBlocksCanBeCached() {
        int[] ids = pool.allocate(2);
        pool.free(ids[1]);

        assertThrows(IllegalStateException.class, () -> pool.cache(ids, new BlockHash[] {h(1), h(2)}, null));

        assertEquals(0, pool.numCachedBlocks());
        assertNull(pool.hashOf(ids[0]));
        assertEquals(List.of(), pool.takeEvents());
    }

    @Test
    void hashesMustMatchTheIds() {
        int[] ids = pool.allocate(2);

        assertThrows(IllegalArgumentException.class, () -> pool.cache(ids, new BlockHash[] {h(1)}, null));

        assertEquals(0, pool.numCachedBlocks());
        assertEquals(List.of(), pool.takeEvents());
    }

    @Test
    void withCachingDisabledNothingIsCached() {
        pool = new BlockPool(4, BS, false);
        int[] ids = pool.allocate(2);

        pool.cache(ids, new BlockHash[] {h(1), h(2)}, null);

        assertFalse(pool.cachingEnabled());
        assertEquals(0, pool.numCachedBlocks());
        assertEquals(-1, pool.lookup(h(1)));
        assertNull(pool.hashOf(ids[0]));
        assertEquals(List.of(), pool.takeEvents());
    }

    @Test
    void forEachCachedVisitsInIdOrderAndSaysWhichAreFree() {
        pool.allocate(5);
        pool.cache(new int[] {4, 2, 5}, new BlockHash[] {h(4), h(2), h(5)}, null);
        pool.free(2);
        List<String> seen = new ArrayList<>();

        pool.forEachCached((id, hash, free) -> seen.add(id + ":" + hash.h0() + ":" + free));

        assertEquals(List.of("2:2:true", "4:4:false", "5:5:false"), seen);
    }

    // ---- evict / reset / events ----

    @Test
    void evictDropsHashesAndKeepsReferences() {
        int[] ids = pool.allocate(3);
        pool.cache(ids, new BlockHash[] {h(1), h(2), h(3)}, null);
        pool.free(ids[2]);
        pool.takeEvents();

        assertEquals(2, pool.evict(ids[0], ids[2], 7));

        assertEquals(List.of(removed(h(1), h(3))), pool.takeEvents(), "one event, in the order evicted");
        assertEquals(-1, pool.lookup(h(1)));
        assertEquals(-1, pool.lookup(h(3)));
        assertEquals(ids[1], pool.lookup(h(2)));
        assertNull(pool.hashOf(ids[0]));
        assertEquals(1, pool.refCount(ids[0]));
        assertEquals(0, pool.refCount(ids[2]));
        assertEquals(5, pool.numFreeBlocks());
        assertEquals(0, pool.evict(ids[0]), "already evicted");
        assertEquals(List.of(), pool.takeEvents());
    }

    @Test
    void resetRefusesWhileABlockIsHeld() {
        int[] ids = pool.allocate(2);
        pool.cache(ids, new BlockHash[] {h(1), h(2)}, null);
        pool.free(ids[0]);
        pool.takeEvents();

        assertFalse(pool.resetPrefixCache());

        assertEquals(2, pool.numCachedBlocks());
        assertEquals(ids[0], pool.lookup(h(1)));
        assertEquals(List.of(), pool.takeEvents());
    }

    @Test
    void resetClearsEveryHashOnceAllBlocksAreFree() {
        int[] ids = pool.allocate(2);
        pool.cache(ids, new BlockHash[] {h(1), h(2)}, null);
        pool.free(ids[1], ids[0]);
        pool.takeEvents();

        assertTrue(pool.resetPrefixCache());

        assertEquals(List.of(new KvEvent.AllBlocksCleared(StorageMedium.GPU)), pool.takeEvents());
        assertEquals(0, pool.numCachedBlocks());
        assertEquals(-1, pool.lookup(h(1)));
        assertNull(pool.hashOf(ids[0]));
        assertEquals(7, pool.numFreeBlocks());
        pool.checkStructure();
        // Reallocation no longer reports removals: the reset covered them.
        pool.allocate(7);
        assertEquals(List.of(), pool.takeEvents());
    }

    @Test
    void resetWorksOnAnEmptyPool() {
        assertTrue(pool.resetPrefixCache());
        assertEquals(List.of(new KvEvent.AllBlocksCleared(StorageMedium.GPU)), pool.takeEvents());
    }

    @Test
    void aRangeOfIdsIsCachedUnderTheHashesOfItsPositions() {
        int[] ids = pool.allocate(4);
        BlockHashChain byPosition = BlockHashChain.of(List.of(h(1), h(2), h(3), h(4)));

        assertThrows(IndexOutOfBoundsException.class, () -> pool.cache(ids, 3, 5, byPosition));
        assertEquals(List.of(), pool.takeEvents(), "a refused range caches nothing");
        pool.cache(ids, 1, 3, byPosition);

        assertEquals(List.of(stored(h(1), h(2), h(3))), pool.takeEvents());
        assertEquals(-1, pool.lookup(h(1)), "before the range");
        assertEquals(ids[1], pool.lookup(h(2)));
        assertEquals(ids[2], pool.lookup(h(3)));
        assertEquals(-1, pool.lookup(h(4)), "after the range");
        assertEquals(ids[2], pool.lookup(byPosition, 2), "looked up by position, as words");
        assertEquals(-1, pool.lookup(byPosition, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> pool.lookup(byPosition, 4));
    }

    @Test
    void evictionsAreOneEventUntilAnotherEventComesBetween() {
        BlockPool pool = pool(5); // every usable block cached and free: each allocation evicts
        int[] ids = pool.allocate(4);
        pool.cache(ids, new BlockHash[] {h(1), h(2), h(3), h(4)}, null);
        pool.free(ids);
        pool.takeEvents();

        int[] first = pool.allocate(2); // evicts h(1), h(2)
        pool.cache(new int[] {first[0]}, new BlockHash[] {h(5)}, null);
        pool.allocate(1); // evicts h(3)
        List<KvEvent> events = new ArrayList<>();
        pool.drainEventsTo(events);
        pool.allocate(1); // evicts h(4), after the drain

        assertEquals(List.of(removed(h(1), h(2)), stored(null, h(5)), removed(h(3))), events);
        assertEquals(List.of(removed(h(4))), pool.takeEvents());
    }

    @Test
    void takeEventsDrains() {
        int[] ids = pool.allocate(1);
        pool.cache(ids, new BlockHash[] {h(1)}, null);
        pool.evict(ids);

        List<KvEvent> events = pool.takeEvents();

        assertEquals(List.of(stored(null, h(1)), removed(h(1))), events);
        assertEquals(List.of(), pool.takeEvents());
        assertThrows(UnsupportedOperationException.class, () -> events.add(removed(h(2))));
        pool.cache(ids, new BlockHash[] {h(3)}, null);
        assertEquals(List.of(stored(null, h(3))), pool.takeEvents());
        assertEquals(2, events.size(), "a taken list does not change later");
    }

    @Test
    void structureHoldsThroughAMixedSequence() {
        pool(6);
        List<Runnable> ops = List.of(
                () -> pool.allocate(3),
                () -> pool.cache(new int[] {1, 2}, new BlockHash[] {h(1), h(2)}, null),
                () -> pool.touch(4),
                () -> pool.free(2, 1),
                () -> pool.touch(1),
                () -> pool.touch(3),
                () -> pool.allocate(2),
                () -> pool.evict(1, 2),
                () -> pool.free(1, 3, 3),
                () -> pool.allocate(2),
                () -> pool.free(1, 2, 3, 4, 5),
                () -> pool.resetPrefixCache());
        for (Runnable op : ops) {
            op.run();
            pool.checkStructure();
        }
        assertEquals(5, pool.numFreeBlocks());
        assertEquals(0, pool.numCachedBlocks());
    }

    @Test
    void freeReversedQueuesTheBlocksLastFirstAsFreeingThemOneByOne() {
        BlockPool oneByOne = new BlockPool(8, BS, true);
        int[] a = oneByOne.allocate(5);
        oneByOne.touch(a[2]); // a second reference: stays in use after one free
        for (int i = a.length - 1; i >= 0; i--) {
            oneByOne.free(a[i]);
        }
        int[] b = pool.allocate(5);
        pool.touch(b[2]);
        // Only the first four: the last id is not part of the call.
        pool.freeReversed(b, 4);
        pool.free(b[4]);
        assertArrayEquals(b, a, "both pools hand out the same ids");
        // The order differs only where the calls differ: b[4] went last, a[4] first.
        assertArrayEquals(
                new int[] {b[3], b[1], b[0], b[4]}, java.util.Arrays.copyOfRange(pool.freeQueueOrder(), 2, 6));
        assertEquals(1, pool.refCount(b[2]));
        assertEquals(1, oneByOne.refCount(a[2]));
        pool.free(b[2]);
    }

    @Test
    void freeReversedStopsAtADoubleFreeAfterFreeingTheBlocksAfterIt() {
        int[] ids = pool.allocate(3);
        pool.free(ids[1]);
        var e = assertThrows(IllegalStateException.class, () -> pool.freeReversed(ids, 3));
        assertTrue(e.getMessage().contains("double free"), e.getMessage());
        assertEquals(0, pool.refCount(ids[2]), "freed before the double free was found");
        assertEquals(1, pool.refCount(ids[0]), "not reached");
        assertThrows(IndexOutOfBoundsException.class, () -> pool.freeReversed(ids, 4));
        pool.free(ids[0]);
    }
}
