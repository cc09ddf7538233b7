package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A connector's reference-counted view of the pool, and what it refuses. */
class ConnectorBlockViewTest {
    private final BlockPool pool = new BlockPool(8, 16, true);
    /** A cap far above the pool, so that only the tests of the cap meet it. */
    private final ConnectorBlockView view = new ConnectorBlockView(pool, OptionalInt.of(100), Thread.currentThread());

    @AfterEach
    void structureHolds() {
        pool.checkStructure();
    }

    private static BlockHash h(long n) {
        return new BlockHash(n, n, n, n);
    }

    private int[] refCounts() {
        int[] counts = new int[pool.numBlocks()];
        for (int id = 1; id < pool.numBlocks(); id++) {
            counts[id] = pool.refCount(id);
        }
        return counts;
    }

    /**
     * Makes {@code ids} free and cached (a fresh pool's free blocks are not cached, and a connector
     * may touch only blocks in use or cached). Call on a fresh pool.
     */
    private void cacheFree(int... ids) {
        int[] all = pool.allocate(pool.numFreeBlocks());
        for (int id : ids) {
            pool.cache(new int[] {id}, new BlockHash[] {h(id)}, null);
        }
        pool.free(all);
        pool.takeEvents();
    }

    private int[] held(ConnectorBlockView v) {
        int[] counts = new int[pool.numBlocks()];
        for (int id = 1; id < pool.numBlocks(); id++) {
            counts[id] = v.heldReferences(id);
        }
        return counts;
    }

    @Test
    void numBlocksExcludesTheNullBlock() {
        assertEquals(7, view.numBlocks());
        assertEquals(7, view.numFreeBlocks());
        pool.allocate(3);
        assertEquals(4, view.numFreeBlocks());
        assertEquals(7, view.numBlocks());
    }

    @Test
    void touchAndFreeAreCountedPerView() {
        cacheFree(2, 5);
        view.touch(2, 2, 5);

        assertEquals(2, view.heldReferences(2));
        assertEquals(1, view.heldReferences(5));
        assertEquals(0, view.heldReferences(3));
        assertEquals(3, view.totalHeld());
        assertEquals(2, view.held(2));
        assertEquals(2, pool.refCount(2));
        assertEquals(1, pool.refCount(5));
        assertEquals(5, view.numFreeBlocks());

        view.free(2, 5);

        assertEquals(1, view.heldReferences(2));
        assertEquals(0, view.heldReferences(5));
        assertEquals(1, view.totalHeld());
        assertEquals(1, pool.refCount(2));
        assertEquals(0, pool.refCount(5));
        assertEquals(6, view.numFreeBlocks());
    }

    @Test
    void touchingAnEngineHeldBlockAddsToItsCount() {
        int[] ids = pool.allocate(1);

        view.touch(ids[0]);

        assertEquals(2, pool.refCount(ids[0]));
        assertEquals(1, view.heldReferences(ids[0]));
        view.free(ids[0]);
        assertEquals(1, pool.refCount(ids[0]), "the engine's reference stays");
    }

    @Test
    void freeingMoreThanHeldThrowsAndChangesNothing() {
        cacheFree(3, 4);
        int[] engine = pool.allocate(1);
        view.touch(3, 3, 4);
        int[] counts = refCounts();
        int[] held = held(view);
        int free = pool.numFreeBlocks();

        List<int[]> badCalls = List.of(
                new int[] {3, 3, 3}, // repeated within one call beyond what is held
                new int[] {4, 3, 4}, // the bad id comes last
                new int[] {6}, // a free block never touched
                new int[] {engine[0]}, // held by the engine, not by this connector
                new int[] {3, 4, engine[0]});
        for (int[] call : badCalls) {
            var e = assertThrows(IllegalStateException.class, () -> view.free(call));
            assertTrue(e.getMessage().contains("holds"), e.getMessage());
            assertArrayEquals(counts, refCounts());
            assertArrayEquals(held, held(view));
            assertEquals(3, view.totalHeld());
            assertEquals(free, pool.numFreeBlocks());
        }

        view.free(3, 4, 3);
        assertEquals(0, view.totalHeld());
        assertEquals(1, pool.refCount(engine[0]));
    }

    @Test
    void freeingAnInvalidIdFreesNothing() {
        cacheFree(3);
        view.touch(3);

        assertThrows(IllegalArgumentException.class, () -> view.free(3, 0));
        assertThrows(IllegalArgumentException.class, () -> view.free(3, 8));
        assertThrows(IllegalArgumentException.class, () -> view.free(3, -1));

        assertEquals(1, view.heldReferences(3));
        assertEquals(1, pool.refCount(3));
    }

    @Test
    void touchingWithAnInvalidIdTouchesNothing() {
        for (int[] call : List.of(new int[] {1, 0}, new int[] {2, 8}, new int[] {-3, 4}, new int[] {5, 5, 100})) {
            var e = assertThrows(IllegalArgumentException.class, () -> view.touch(call));
            assertTrue(e.getMessage().contains("null block") || e.getMessage().contains("outside"), e.getMessage());
        }

        assertArrayEquals(new int[8], refCounts());
        assertArrayEquals(new int[8], held(view));
        assertEquals(0, view.totalHeld());
        assertEquals(7, view.numFreeBlocks());
    }

    @Test
    void readingAnInvalidIdThrows() {
        assertThrows(IllegalArgumentException.class, () -> view.heldReferences(0));
        assertThrows(IllegalArgumentException.class, () -> view.heldReferences(8));
        assertThrows(IllegalArgumentException.class, () -> view.cachedHash(0));
        assertThrows(IllegalArgumentException.class, () -> view.cachedHash(-1));
    }

    @Test
    void releaseAllReturnsEverythingAndCountsIt() {
        cacheFree(5, 6);
        int[] engine = pool.allocate(2);
        view.touch(engine[0], engine[0], 5, 6, 6, 6);
        long before = view.referenceGeneration();

        assertEquals(6, view.releaseAll());
        assertEquals(before + 1, view.referenceGeneration(), "a connector can tell its references were taken back");

        assertEquals(0, view.totalHeld());
        assertArrayEquals(new int[8], held(view));
        assertEquals(1, pool.refCount(engine[0]), "the engine's own reference is untouched");
        assertEquals(1, pool.refCount(engine[1]));
        assertEquals(0, pool.refCount(5));
        assertEquals(0, pool.refCount(6));
        assertEquals(5, pool.numFreeBlocks());
        assertEquals(0, view.releaseAll(), "nothing left to release");
    }

    @Test
    void twoViewsOverOnePoolStayApart() {
        cacheFree(2, 3);
        var other = new ConnectorBlockView(pool);
        view.touch(2);
        other.touch(2, 3);

        assertThrows(IllegalStateException.class, () -> view.free(3));
        assertThrows(IllegalStateException.class, () -> other.free(2, 2));
        assertEquals(2, pool.refCount(2));

        other.free(2);
        assertEquals(1, view.heldReferences(2));
        assertEquals(0, other.heldReferences(2));
        assertEquals(1, pool.refCount(2));

        long viewGeneration = view.referenceGeneration();
        assertEquals(1, other.releaseAll());
        assertEquals(viewGeneration, view.referenceGeneration(), "the other connector's take-back is not this one's");
        assertEquals(1, view.heldReferences(2));
        assertEquals(1, view.totalHeld());
        assertEquals(0, pool.refCount(3));
        assertEquals(1, view.releaseAll());
        assertEquals(7, pool.numFreeBlocks());
    }

    @Test
    void aTouchedCachedBlockSurvivesAllocationAndReturnsStillCached() {
        int[] ids = pool.allocate(1);
        pool.cache(ids, new BlockHash[] {h(1)}, null);
        pool.free(ids);
        pool.takeEvents();

        view.touch(ids[0]);
        pool.allocate(pool.numFreeBlocks());

        assertEquals(Optional.of(h(1)), view.cachedHash(ids[0]));
        assertEquals(List.of(), pool.takeEvents(), "the touched block was not evicted");
        view.free(ids[0]);
        assertEquals(1, view.numFreeBlocks());
        assertEquals(Optional.of(h(1)), view.cachedHash(ids[0]), "freed blocks stay cached");
        assertEquals(ids[0], pool.lookup(h(1)));
    }

    @Test
    void forEachCachedBlockReportsThePoolsCache() {
        pool.allocate(3);
        pool.cache(new int[] {3, 1}, new BlockHash[] {h(3), h(1)}, null);
        pool.free(1);
        List<String> seen = new ArrayList<>();

        view.forEachCachedBlock((id, hash, free) -> seen.add(id + ":" + hash.h0() + ":" + free));

        assertEquals(List.of("1:1:true", "3:3:false"), seen);
        assertEquals(Optional.empty(), view.cachedHash(2));
    }

    // ---- what a connector may touch -------------------------------------------------------------

    @Test
    void touchingAFreeBlockThatIsNotCachedIsRefusedNamingItAndChangesNothing() {
        cacheFree(2);
        int[] engine = pool.allocate(1);
        int[] counts = refCounts();
        int free = pool.numFreeBlocks();

        var e = assertThrows(IllegalArgumentException.class, () -> view.touch(engine[0], 2, 6));

        assertEquals(
                "block 6 is free and not cached: a connector may touch only blocks in use or cached; nothing "
                        + "was touched",
                e.getMessage());
        assertArrayEquals(counts, refCounts());
        assertArrayEquals(new int[8], held(view));
        assertEquals(free, pool.numFreeBlocks());
        assertEquals(0, view.totalHeld());
    }

    @Test
    void blocksInUseAndFreeCachedBlocksMayBeTouched() {
        cacheFree(2);
        int[] engine = pool.allocate(1);

        view.touch(engine[0], 2);
        view.touch(engine[0]); // in use by this connector as well now

        assertEquals(3, view.totalHeld());
        assertEquals(3, pool.refCount(engine[0]));
        assertEquals(1, pool.refCount(2));
        assertEquals(3, view.releaseAll());
    }

    @Test
    void theDefaultCapIsHalfTheUsableBlocks() {
        assertEquals(3, new ConnectorBlockView(pool).maxReferences(), "7 usable blocks");
        assertEquals(1, new ConnectorBlockView(new BlockPool(2, 16, true)).maxReferences(), "at least one");
        assertEquals(1024, ConnectorBlockView.defaultMaxReferences(2048));
    }

    @Test
    void aTouchBeyondTheCapIsRefusedNamingTheCapAndItsKeyAndChangesNothing() {
        var capped = new ConnectorBlockView(pool);
        int[] engine = pool.allocate(7);
        capped.touch(engine[0], engine[1]);
        assertEquals(1, capped.availableReferences());
        int[] counts = refCounts();

        var e = assertThrows(IllegalStateException.class, () -> capped.touch(engine[2], engine[3]));

        assertEquals(
                "connector would hold 4 GPU block references, more than its cap of 3 (engine key "
                        + "connector_block_references); it holds 2 and must free some first; nothing was touched",
                e.getMessage());
        assertArrayEquals(counts, refCounts());
        assertEquals(2, capped.totalHeld());
        // Repeated touches of one block count too: they are references all the same.
        assertThrows(IllegalStateException.class, () -> capped.touch(engine[0], engine[0]));

        capped.touch(engine[2]);
        capped.free(engine[0]);
        capped.touch(engine[3]);
        assertEquals(3, capped.totalHeld());
        assertEquals(0, capped.availableReferences());
    }

    @Test
    void aConfiguredCapOutsideItsRangeIsRefused() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new ConnectorBlockView(pool, OptionalInt.of(0), Thread.currentThread()));
        assertThrows(
                IllegalArgumentException.class,
                () -> new ConnectorBlockView(
                        pool, OptionalInt.of(ConnectorBlockView.MAX_REFERENCES_LIMIT + 1), Thread.currentThread()));
    }

    // ---- the engine thread ----------------------------------------------------------------------

    @Test
    void everyMethodRefusesAnotherThreadBeforeReadingOrChangingThePool() throws InterruptedException {
        cacheFree(2);
        int[] engine = pool.allocate(1);
        view.touch(2);
        int[] counts = refCounts();
        int[] held = held(view);
        int[] freeQueue = pool.freeQueueOrder();
        List<Runnable> calls = List.of(
                () -> view.touch(engine[0]),
                () -> view.free(2),
                view::numBlocks,
                view::numFreeBlocks,
                view::availableReferences,
                () -> view.heldReferences(2),
                view::referenceGeneration,
                () -> view.cachedHash(2),
                () -> view.forEachCachedBlock((id, hash, free) -> {}));
        List<Throwable> thrown = new ArrayList<>();

        Thread plugin = Thread.ofPlatform().name("plugin-thread").start(() -> {
            for (Runnable call : calls) {
                try {
                    call.run();
                    thrown.add(null);
                } catch (RuntimeException e) {
                    thrown.add(e);
                }
            }
        });
        plugin.join();

        assertEquals(calls.size(), thrown.size());
        for (Throwable t : thrown) {
            assertTrue(t instanceof IllegalStateException, "refused: " + t);
            assertEquals(
                    "GPUBlockPoolView may be used only on the engine thread ("
                            + Thread.currentThread().getName() + "); called from plugin-thread",
                    t.getMessage());
        }
        assertArrayEquals(counts, refCounts());
        assertArrayEquals(held, held(view));
        assertArrayEquals(freeQueue, pool.freeQueueOrder());
        view.free(2); // the engine thread still may
    }
}
