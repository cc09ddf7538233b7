package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The per-block record that the pool, its cached hashes, its index and its grant ledger share:
 * their fields do not overlap, a hash survives the trip through plain words bit for bit, and
 * nothing done to one block touches another block's record.
 */
class BlockRecordsTest {
    @Test
    void everyFieldHasItsOwnIntsInsideTheRecord() {
        List<Integer> singles = List.of(
                BlockRecords.REF,
                BlockRecords.PREV,
                BlockRecords.NEXT,
                BlockRecords.FLAGS,
                BlockRecords.FINGERPRINT,
                BlockRecords.GENERATION,
                BlockRecords.LOAD_TARGET,
                BlockRecords.IS_CHANGED);
        Set<Integer> used = new HashSet<>(singles);
        for (int i = 0; i < 8; i++) {
            used.add(BlockRecords.HASH + i);
        }
        assertEquals(16, used.size(), "fields overlap");
        assertTrue(used.stream().allMatch(f -> f >= 0 && f < BlockRecords.STRIDE), "a field outside the record");
        assertEquals(0, BlockRecords.QUEUED & BlockRecords.HASHED, "flag bits overlap");
    }

    @Test
    void aHashComesBackBitForBitWhateverItsWords() {
        int[] records = BlockRecords.newTable(4);
        CachedHashes hashes = new CachedHashes(records);
        BlockHash extreme = new BlockHash(Long.MIN_VALUE, -1L, 0L, Long.MAX_VALUE);
        BlockHash mixed = new BlockHash(0x8000_0000L, 0xFFFF_FFFFL, -0x1_0000_0000L, 0x7FFF_FFFF_8000_0000L);

        hashes.set(1, extreme);
        hashes.set(2, mixed);

        assertEquals(extreme, hashes.get(1));
        assertEquals(mixed, hashes.get(2));
        assertTrue(hashes.is(1, extreme) && !hashes.is(1, mixed) && !hashes.is(3, extreme));
        hashes.clear(1);
        assertNull(hashes.get(1));
        assertFalse(hashes.is(1, extreme), "a cleared block has no hash, whatever its words still say");
        assertEquals(mixed, hashes.get(2));
    }

    @Test
    void whatIsDoneToOneBlockLeavesItsNeighboursRecordsAlone() {
        int numBlocks = 6;
        BlockPool pool = new BlockPool(numBlocks, 4, true);
        int[] ids = pool.allocate(numBlocks - 1);
        BlockHash[] hs = new BlockHash[ids.length];
        for (int i = 0; i < hs.length; i++) {
            hs[i] = new BlockHash(-1L - i, Long.MIN_VALUE + i, i, ~i);
        }
        pool.cache(ids, hs, null);
        pool.grants().takeChanges();
        int middle = ids[2];
        int[] before = refCountsAndHashes(pool, numBlocks, middle);

        // Free, re-take, grant, uncache and re-cache the middle block only.
        pool.free(middle);
        pool.touch(middle);
        pool.grants().grantLoad(middle);
        pool.grants().endLoad(middle);
        pool.evict(middle);
        pool.cache(new int[] {middle}, new BlockHash[] {new BlockHash(7, 7, 7, 7)}, null);

        assertArrayEquals(before, refCountsAndHashes(pool, numBlocks, middle));
        for (int i = 0; i < ids.length; i++) {
            assertTrue(pool.grants().readable(ids[i]), "block " + ids[i] + " in use");
            assertEquals(ids[i] == middle ? new BlockHash(7, 7, 7, 7) : hs[i], pool.hashOf(ids[i]));
        }
        pool.checkStructure();
    }

    /** Every block's reference count and hash words except {@code skip}'s. */
    private static int[] refCountsAndHashes(BlockPool pool, int numBlocks, int skip) {
        int[] out = new int[numBlocks * 5];
        for (int id = 1; id < numBlocks; id++) {
            if (id == skip) {
                continue;
            }
            BlockHash h = pool.hashOf(id);
            out[id * 5] = pool.refCount(id);
            out[id * 5 + 1] = h == null ? 0 : Long.hashCode(h.h0());
            out[id * 5 + 2] = h == null ? 0 : Long.hashCode(h.h1());
            out[id * 5 + 3] = h == null ? 0 : Long.hashCode(h.h2());
            out[id * 5 + 4] = h == null ? 0 : Long.hashCode(h.h3());
        }
        return out;
    }
}
