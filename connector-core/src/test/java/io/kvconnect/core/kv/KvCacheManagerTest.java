package io.kvconnect.core.kv;

import static io.kvconnect.core.kv.TestRequests.concat;
import static io.kvconnect.core.kv.TestRequests.range;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.testkit.doubles.FakeRequest;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Prefix lookup, slot allocation, caching and freeing of requests' blocks. */
class KvCacheManagerTest {
    private static final int BS = 4;

    private BlockPool pool = new BlockPool(11, BS, true); // 10 usable blocks
    private KvCacheManager kv = new KvCacheManager(pool);

    @AfterEach
    void structureHolds() {
        pool.checkStructure();
    }

    private void newPool(int numBlocks, boolean caching) {
        pool = new BlockPool(numBlocks, BS, caching);
        kv = new KvCacheManager(pool);
    }

    private static FakeRequest req(String id, int... tokens) {
        return TestRequests.of(id, BS, tokens);
    }

    /** Allocates {@code r}'s prompt with whatever it hits, and caches its full blocks. */
    private int[] admitAndCache(FakeRequest r) {
        PrefixHit hit = kv.findCachedPrefix(r);
        assertNotNull(kv.allocate(r.requestId(), r.numTokens(), hit));
        kv.cacheUpTo(r, r.numTokens());
        return kv.blockIds(r.requestId());
    }

    private static KvEvent.BlockStored stored(BlockHash parent, List<BlockHash> hashes) {
        return new KvEvent.BlockStored(hashes, Optional.ofNullable(parent), BS, 0, StorageMedium.GPU);
    }

    private Map<String, String> snapshot() {
        Map<String, String> s = new TreeMap<>();
        for (int id = 1; id < pool.numBlocks(); id++) {
            s.put("ref" + id, pool.refCount(id) + "/" + pool.hashOf(id));
        }
        s.put("free", String.valueOf(pool.numFreeBlocks()));
        s.put("cached", String.valueOf(pool.numCachedBlocks()));
        for (String owner : kv.owners()) {
            s.put("owner " + owner, Arrays.toString(kv.blockIds(owner)));
        }
        return s;
    }

    // ---- findCachedPrefix ----

    @Test
    void aHandleGrowsAndCachesTheRequestsBlocksUntilTheyAreFreedAndIsRefusedAfter() {
        FakeRequest a = req("a", range(0, 10));
        assertNull(kv.owned("a"), "no blocks, no handle");
        assertNotNull(kv.allocate("a", 6, PrefixHit.NONE));
        KvCacheManager.Owned own = kv.owned("a");
        assertNotNull(own);
        assertTrue(own.isLive());

        assertEquals(1, kv.blocksNeeded(own, 10));
        int[] before = own.blockIdArray();
        assertEquals(1, kv.grow(own, 10));
        assertEquals(0, kv.blocksNeeded(own, 12), "the handle is the record: it sees the block it grew");
        assertEquals(3, kv.numBlocks("a"));
        assertEquals(3, own.numBlocks());
        assertEquals(kv.blockAt("a", 2), own.blockIdArray()[2], "the new block is the record's last");
        assertEquals(0, kv.grow(own, 12), "enough blocks: none added");
        kv.cacheUpTo(own, BlockHashChain.of(a.blockHashes()), 8);
        assertEquals(pool.lookup(a.blockHash(1)), kv.blockAt("a", 1), "cached through the handle");
        assertEquals(-1, kv.grow(own, 4 * 100), "more than the pool: nothing allocated");
        assertEquals(3, kv.numBlocks("a"));
        assertEquals(7, pool.numFreeBlocks());
        int[] window = own.blockIdArray();
        int[] planned = Arrays.copyOf(window, 3);
        assertEquals(before[0], window[0]);

        kv.free("a");
        assertFalse(own.isLive());
        assertArrayEquals(planned, Arrays.copyOf(window, 3), "a freed record's ids are left as they were");
        assertThrows(IllegalStateException.class, () -> kv.blocksNeeded(own, 4));
        assertThrows(IllegalStateException.class, () -> kv.grow(own, 12));
        assertThrows(IllegalStateException.class, () -> kv.cacheUpTo(own, BlockHashChain.of(a.blockHashes()), 8));
        assertNotNull(kv.allocate("a", 4, PrefixHit.NONE));
        KvCacheManager.Owned again = kv.owned("a");
        assertNotNull(again);
        assertTrue(again.isLive() && again != own, "a later allocation makes a new record");
        assertEquals(1, kv.numBlocks("a"));
    }

    @Test
    void nothingIsHitInAnEmptyCache() {
        assertSame(PrefixHit.NONE, kv.findCachedPrefix(req("a", range(0, 9))));
        assertSame(PrefixHit.NONE, kv.findCachedPrefix(req("empty")));
    }

    @Test
    void aBlockAlignedFullyCachedPromptHitsOneBlockLess() {
        FakeRequest a = req("a", range(0, 12));
        int[] blocks = admitAndCache(a);

        PrefixHit hit = kv.findCachedPrefix(req("b", range(0, 12)));

        assertArrayEquals(new int[] {blocks[0], blocks[1]}, hit.blocks());
        assertEquals(8, hit.tokens());
        assertEquals(2, hit.numBlocks());
    }

    @Test
    void aLongerPromptHitsEveryCachedBlock() {
        int[] blocks = admitAndCache(req("a", range(0, 12)));

        PrefixHit hit = kv.findCachedPrefix(req("b", range(0, 13)));

        assertArrayEquals(blocks, hit.blocks());
        assertEquals(12, hit.tokens());
    }

    @Test
    void theHitNeverCoversTheLastToken() {
        int[] blocks = admitAndCache(req("a", range(0, 12)));

        assertEquals(0, kv.findCachedPrefix(req("b", range(0, 4))).numBlocks());
        assertEquals(1, kv.findCachedPrefix(req("c", range(0, 5))).numBlocks());
        assertEquals(1, kv.findCachedPrefix(req("d", range(0, 8))).numBlocks());
        assertArrayEquals(
                new int[] {blocks[0], blocks[1]},
                kv.findCachedPrefix(req("e", range(0, 9))).blocks());
    }

    @Test
    void lookupStopsAtTheFirstMiss() {
        int[] blocks = admitAndCache(req("a", range(0, 16)));
        kv.evict(blocks[1]);

        PrefixHit hit = kv.findCachedPrefix(req("b", range(0, 17)));

        assertArrayEquals(new int[] {blocks[0]}, hit.blocks(), "blocks 2 and 3 are cached but follow a miss");
        assertEquals(blocks[2], pool.lookup(req("x", range(0, 12)).blockHash(2)));
    }

    @Test
    void aDifferentPrefixOrSaltMisses() {
        admitAndCache(req("a", range(0, 12)));

        int[] changed = range(0, 13);
        changed[5] = -5;
        assertEquals(1, kv.findCachedPrefix(req("b", changed)).numBlocks(), "block 1 differs");
        assertEquals(
                0,
                kv.findCachedPrefix(TestRequests.of("c", BS, Optional.of("s"), range(0, 13)))
                        .numBlocks());
    }

    @Test
    void withCachingOffNothingIsHitOrCached() {
        newPool(11, false);
        FakeRequest a = req("a", range(0, 12));
        kv.allocate("a", 12, PrefixHit.NONE);
        kv.cacheUpTo(a, 12);

        assertSame(PrefixHit.NONE, kv.findCachedPrefix(req("b", range(0, 13))));
        assertEquals(0, pool.numCachedBlocks());
        assertEquals(List.of(), pool.takeEvents());
    }

    // ---- allocate ----

    @Test
    void allocateWithAHitTouchesItsBlocksAndAllocatesTheRest() {
        int[] aBlocks = admitAndCache(req("a", range(0, 12)));
        assertEquals(7, pool.numFreeBlocks());
        FakeRequest b = req("b", concat(range(0, 12), 50, 51, 52));
        PrefixHit hit = kv.findCachedPrefix(b);

        int[] fresh = kv.allocate("b", 20, hit);

        assertEquals(2, fresh.length, "20 tokens = 5 blocks, 3 of them hit");
        assertArrayEquals(concat(aBlocks, fresh), kv.blockIds("b"));
        for (int id : aBlocks) {
            assertEquals(2, pool.refCount(id));
        }
        for (int id : fresh) {
            assertEquals(1, pool.refCount(id));
            assertNull(pool.hashOf(id));
        }
        assertEquals(5, pool.numFreeBlocks());
        assertEquals(5, kv.numBlocks("b"));
        assertEquals(Set.of("a", "b"), kv.owners());
    }

    @Test
    void allocateGrowsAnOwner() {
        int[] first = kv.allocate("a", 5, PrefixHit.NONE);
        int[] none = kv.allocate("a", 8, PrefixHit.NONE);
        int[] more = kv.allocate("a", 9, PrefixHit.NONE);

        assertEquals(2, first.length);
        assertEquals(0, none.length);
        assertEquals(1, more.length);
        assertArrayEquals(concat(first, more), kv.blockIds("a"));
        assertEquals(0, kv.allocate("a", 3, PrefixHit.NONE).length, "never shrinks");
        assertEquals(3, kv.numBlocks("a"));
    }

    @Test
    void aHitIsOnlyForARequestWithoutBlocks() {
        int[] aBlocks = admitAndCache(req("a", range(0, 12)));
        kv.allocate("b", 4, PrefixHit.NONE);
        Map<String, String> before = snapshot();

        assertThrows(IllegalStateException.class, () -> kv.allocate("b", 16, new PrefixHit(aBlocks, 12)));

        assertEquals(before, snapshot());
    }

    @Test
    void allocationFailureChangesNothing() {
        admitAndCache(req("a", range(0, 12)));
        kv.allocate("b", 20, PrefixHit.NONE); // 5 blocks; 2 left free
        FakeRequest c = req("c", range(0, 13));
        PrefixHit hit = kv.findCachedPrefix(c);
        assertEquals(3, hit.numBlocks());
        Map<String, String> before = snapshot();

        assertNull(kv.allocate("c", 13 + 3 * BS, hit), "3 hit + 4 fresh > 2 free");
        assertEquals(before, snapshot());
        assertFalse(kv.owns("c"));
        assertEquals(0, kv.numBlocks("c"));

        assertNull(kv.allocate("b", 20 + 3 * BS, PrefixHit.NONE), "growing b by 3 > 2 free");
        assertEquals(before, snapshot());
        assertEquals(5, kv.numBlocks("b"));

        assertNull(kv.allocate("d", 3 * BS, PrefixHit.NONE));
        assertEquals(before, snapshot());
        assertEquals(Set.of("a", "b"), kv.owners());
    }

    @Test
    void revivedHitBlocksCountAgainstFreeSpace() {
        int[] aBlocks = admitAndCache(req("a", range(0, 12)));
        kv.free("a");
        assertEquals(10, pool.numFreeBlocks(), "a's cached blocks are free");
        FakeRequest b = req("b", range(0, 13));
        PrefixHit hit = kv.findCachedPrefix(b);
        assertArrayEquals(aBlocks, hit.blocks());
        Map<String, String> before = snapshot();

        // 3 revived + 8 fresh = 11 > 10 free, although 8 fresh alone would fit.
        assertNull(kv.allocate("b", 11 * BS, hit));
        assertEquals(before, snapshot());

        // 3 revived + 7 fresh = 10 fits exactly, and the hit blocks keep their content.
        int[] fresh = kv.allocate("b", 10 * BS, hit);
        assertEquals(7, fresh.length);
        assertEquals(0, pool.numFreeBlocks());
        for (int i = 0; i < 3; i++) {
            assertEquals(1, pool.refCount(aBlocks[i]));
            assertEquals(b.blockHash(i), pool.hashOf(aBlocks[i]));
        }
        assertArrayEquals(concat(aBlocks, fresh), kv.blockIds("b"));
    }

    @Test
    void blocksNeededCountsMissingBlocks() {
        assertEquals(0, kv.blocksNeeded("a", 0));
        assertEquals(1, kv.blocksNeeded("a", 1));
        assertEquals(1, kv.blocksNeeded("a", 4));
        assertEquals(2, kv.blocksNeeded("a", 5));
        kv.allocate("a", 6, PrefixHit.NONE);
        assertEquals(0, kv.blocksNeeded("a", 8));
        assertEquals(0, kv.blocksNeeded("a", 2));
        assertEquals(1, kv.blocksNeeded("a", 9));
        assertEquals(3, kv.blocksNeeded("a", 20));
    }

    // ---- cacheUpTo ----

    @Test
    void cacheUpToCachesFullHashedBlocksOnly() {
        FakeRequest a = req("a", range(0, 10)); // 2 full blocks + 2 tokens
        int[] blocks = kv.allocate("a", 16, PrefixHit.NONE);

        kv.cacheUpTo(a, 7);
        assertEquals(List.of(stored(null, List.of(a.blockHash(0)))), pool.takeEvents());
        assertEquals(1, pool.numCachedBlocks());

        kv.cacheUpTo(a, 16);
        assertEquals(
                List.of(stored(a.blockHash(0), List.of(a.blockHash(1)))),
                pool.takeEvents(),
                "blocks 2 and 3 have no hash: the request has only 10 tokens");
        assertEquals(a.blockHash(0), pool.hashOf(blocks[0]));
        assertEquals(a.blockHash(1), pool.hashOf(blocks[1]));
        assertNull(pool.hashOf(blocks[2]));
        assertNull(pool.hashOf(blocks[3]));

        kv.cacheUpTo(a, 10);
        kv.cacheUpTo(a, 3);
        assertEquals(List.of(), pool.takeEvents(), "nothing new to cache");
    }

    @Test
    void cacheUpToCoversOnlyOwnedBlocks() {
        FakeRequest a = req("a", range(0, 12));
        int[] blocks = kv.allocate("a", 8, PrefixHit.NONE);

        kv.cacheUpTo(a, 12);

        assertEquals(2, pool.numCachedBlocks());
        assertEquals(blocks[1], pool.lookup(a.blockHash(1)));
        assertEquals(-1, pool.lookup(a.blockHash(2)));

        int[] more = kv.allocate("a", 12, PrefixHit.NONE);
        kv.cacheUpTo(a, 12);
        assertEquals(more[0], pool.lookup(a.blockHash(2)));
        assertEquals(
                List.of(
                        stored(null, List.of(a.blockHash(0), a.blockHash(1))),
                        stored(a.blockHash(1), List.of(a.blockHash(2)))),
                pool.takeEvents());
    }

    @Test
    void cacheUpToStartsAfterTheHit() {
        admitAndCache(req("a", range(0, 8)));
        pool.takeEvents();
        FakeRequest b = req("b", range(0, 13));
        kv.allocate("b", 13, kv.findCachedPrefix(b));

        kv.cacheUpTo(b, 13);

        assertEquals(List.of(stored(b.blockHash(1), List.of(b.blockHash(2)))), pool.takeEvents());
    }

    @Test
    void cacheUpToForAnUnknownRequestDoesNothing() {
        kv.cacheUpTo(req("ghost", range(0, 8)), 8);

        assertEquals(0, pool.numCachedBlocks());
        assertEquals(List.of(), pool.takeEvents());
        assertFalse(kv.owns("ghost"));
    }

    @Test
    void aDuplicatePromptStaysUncachedAndIsNotAHit() {
        // Two requests computed the same prefix side by side (no hit for the second).
        FakeRequest a = req("a", range(0, 8));
        FakeRequest b = req("b", range(0, 8));
        kv.allocate("a", 8, PrefixHit.NONE);
        kv.allocate("b", 8, PrefixHit.NONE);
        kv.cacheUpTo(a, 8);
        pool.takeEvents();

        kv.cacheUpTo(b, 8);

        assertEquals(List.of(), pool.takeEvents());
        assertNull(pool.hashOf(kv.blockAt("b", 0)));
        assertEquals(kv.blockAt("a", 0), pool.lookup(b.blockHash(0)));
    }

    // ---- free / uncache ----

    @Test
    void freeReleasesTailFirstSoTheTailIsEvictedFirst() {
        newPool(5, true); // 4 usable
        FakeRequest a = req("a", range(0, 12));
        int[] blocks = admitAndCache(a); // blocks 1, 2, 3; block 4 free
        pool.takeEvents();

        kv.free("a");

        assertFalse(kv.owns("a"));
        assertEquals(4, pool.numFreeBlocks());
        int[] next = kv.allocate("x", 2 * BS, PrefixHit.NONE);
        assertArrayEquals(new int[] {4, blocks[2]}, next);
        assertEquals(
                List.of(new KvEvent.BlockRemoved(List.of(a.blockHash(2)), 0, StorageMedium.GPU)), pool.takeEvents());
        assertArrayEquals(
                new int[] {blocks[0], blocks[1]},
                kv.findCachedPrefix(req("b", range(0, 13))).blocks());
        assertArrayEquals(new int[] {blocks[1]}, kv.allocate("y", BS, PrefixHit.NONE), "the prefix's head goes last");
    }

    @Test
    void freeOfAnUnknownRequestIsANoOp() {
        kv.allocate("a", 4, PrefixHit.NONE);
        kv.free("a");
        kv.free("a");
        kv.free("ghost");

        assertEquals(10, pool.numFreeBlocks());
        assertEquals(Set.of(), kv.owners());
    }

    @Test
    void sharedBlocksSurviveTheFirstOwnersFree() {
        int[] aBlocks = admitAndCache(req("a", range(0, 12)));
        FakeRequest b = req("b", range(0, 13));
        kv.allocate("b", 13, kv.findCachedPrefix(b));

        kv.free("a");

        for (int id : aBlocks) {
            assertEquals(1, pool.refCount(id));
        }
        kv.free("b");
        for (int id = 1; id < pool.numBlocks(); id++) {
            assertEquals(0, pool.refCount(id));
        }
        assertEquals(10, pool.numFreeBlocks());
    }

    @Test
    void uncacheFromLetsBlocksBeCachedAgain() {
        FakeRequest a = req("a", range(0, 12));
        int[] blocks = admitAndCache(a);
        pool.takeEvents();

        // A failed load: blocks 1 and 2 are invalid.
        assertEquals(2, kv.evict(blocks[1], blocks[2]));
        kv.cacheUpTo(a, 12);
        assertEquals(1, pool.numCachedBlocks(), "without uncacheFrom the manager thinks they are cached");

        kv.uncacheFrom("a", 1);
        assertEquals(1, pool.numCachedBlocks());
        kv.cacheUpTo(a, 12);

        assertEquals(3, pool.numCachedBlocks());
        assertEquals(blocks[2], pool.lookup(a.blockHash(2)));
        List<KvEvent> events = pool.takeEvents();
        assertEquals(
                List.of(
                        new KvEvent.BlockRemoved(List.of(a.blockHash(1), a.blockHash(2)), 0, StorageMedium.GPU),
                        stored(a.blockHash(0), List.of(a.blockHash(1), a.blockHash(2)))),
                events);
    }

    @Test
    void reCachingAroundABlockThatKeptItsHashReportsConsecutiveRuns() {
        FakeRequest a = req("a", range(0, 17));
        int[] blocks = admitAndCache(a);
        pool.takeEvents();
        kv.evict(blocks[1], blocks[3]);
        kv.uncacheFrom("a", 1);
        pool.takeEvents();

        kv.cacheUpTo(a, 16);

        assertEquals(
                List.of(
                        stored(a.blockHash(0), List.of(a.blockHash(1))),
                        stored(a.blockHash(2), List.of(a.blockHash(3)))),
                pool.takeEvents());
        assertEquals(4, pool.numCachedBlocks());
    }

    @Test
    void uncacheFromOfAnUnknownRequestIsANoOp() {
        kv.uncacheFrom("ghost", 0);
        assertFalse(kv.owns("ghost"));
    }

    // ---- accessors ----

    @Test
    void blockAccessors() {
        int[] ids = kv.allocate("a", 9, PrefixHit.NONE);

        assertTrue(kv.owns("a"));
        assertSame(pool, kv.pool());
        assertEquals(ids[1], kv.blockAt("a", 1));
        assertThrows(IndexOutOfBoundsException.class, () -> kv.blockAt("a", 3));
        assertThrows(IndexOutOfBoundsException.class, () -> kv.blockAt("a", -1));
        assertThrows(IndexOutOfBoundsException.class, () -> kv.blockAt("ghost", 0));
        assertArrayEquals(ids, kv.blocks("a").toArray());
        assertArrayEquals(new int[] {ids[1], ids[2]}, kv.blocksFrom("a", 1).toArray());
        assertEquals(0, kv.blocksFrom("a", 3).size());
        assertEquals(0, kv.blocksFrom("ghost", 0).size());
        assertArrayEquals(new int[0], kv.blockIds("ghost"));
        int[] copy = kv.blockIds("a");
        copy[0] = 99;
        assertEquals(ids[0], kv.blockAt("a", 0), "blockIds returns a copy");
        assertThrows(UnsupportedOperationException.class, () -> kv.owners().add("x"));
    }

    @Test
    void manyBlocksPerRequestAreKept() {
        newPool(41, true);
        FakeRequest a = req("a", range(0, 38 * BS + 1));

        int[] blocks = admitAndCache(a);

        assertEquals(39, blocks.length);
        assertEquals(38, pool.numCachedBlocks());
        for (int i = 0; i < 38; i++) {
            assertEquals(blocks[i], pool.lookup(a.blockHash(i)));
        }
    }
}
