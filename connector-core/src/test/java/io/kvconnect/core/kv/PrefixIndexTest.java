package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The open-addressing prefix index against a {@code HashMap} model: in a small table (8 blocks, 16
 * slots) probe runs collide and wrap around the end, so every removal shifts entries back.
 */
class PrefixIndexTest {
    private static final int BLOCKS = 8;

    @Test
    void randomPutsAndRemovesAgreeWithAMapModel() {
        for (int seed = 0; seed < 200; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            int[] records = BlockRecords.newTable(BLOCKS);
            CachedHashes hashes = new CachedHashes(records);
            PrefixIndex index = new PrefixIndex(hashes, records);
            Map<BlockHash, Integer> model = new HashMap<>();
            // A small universe of hashes, so lookups hit and miss and re-puts reuse old hashes.
            List<BlockHash> universe = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                universe.add(new BlockHash(random.nextLong(), i, 0, random.nextInt(3)));
            }
            for (int op = 0; op < 400; op++) {
                int id = 1 + random.nextInt(BLOCKS - 1);
                BlockHash h = universe.get(random.nextInt(universe.size()));
                BlockHash had = hashes.get(id);
                if (had != null) {
                    model.remove(had);
                    index.remove(id);
                    hashes.clear(id);
                } else {
                    // Indexes only a hash no block holds yet, in one probe.
                    boolean absent = !model.containsKey(h);
                    assertEquals(absent, put(index, h, id));
                    if (absent) {
                        hashes.set(id, h);
                        model.put(h, id);
                    }
                }
                assertEquals(model.size(), index.size(), "seed " + seed + " op " + op);
                for (BlockHash u : universe) {
                    assertEquals(model.getOrDefault(u, -1), index.get(u), "seed " + seed + " op " + op);
                }
            }
            index.clear();
            assertEquals(0, index.size());
            for (BlockHash u : universe) {
                assertEquals(-1, index.get(u));
            }
        }
    }

    @Test
    void removingABlockThatIsNotIndexedIsRefused() {
        int[] records = BlockRecords.newTable(BLOCKS);
        CachedHashes hashes = new CachedHashes(records);
        PrefixIndex index = new PrefixIndex(hashes, records);
        BlockHash h = new BlockHash(1, 2, 3, 4);
        hashes.set(1, h);
        assertTrue(put(index, h, 1));
        assertThrows(IllegalStateException.class, () -> index.remove(2));
    }

    @Test
    void hashesWithTheSameFingerprintAreToldApartByTheHash() {
        // 32-bit fingerprints collide after about 2^16 hashes (the birthday bound): find a pair.
        Map<Integer, BlockHash> seen = new HashMap<>();
        BlockHash first = null;
        BlockHash second = null;
        for (long i = 0; second == null; i++) {
            BlockHash h = new BlockHash(i, ~i, i * 31, 7);
            BlockHash earlier = seen.putIfAbsent(PrefixIndex.fingerprint(h), h);
            if (earlier != null) {
                first = earlier;
                second = h;
            }
        }
        int[] records = BlockRecords.newTable(BLOCKS);
        CachedHashes hashes = new CachedHashes(records);
        PrefixIndex index = new PrefixIndex(hashes, records);
        hashes.set(3, first);
        assertTrue(put(index, first, 3));
        assertEquals(-1, index.get(second), "same fingerprint, another hash: not indexed");
        assertTrue(put(index, second, 5));
        hashes.set(5, second);
        assertFalse(put(index, first, 6), "held by block 3");

        assertEquals(3, index.get(first));
        assertEquals(5, index.get(second));
        index.remove(3);
        assertEquals(-1, index.get(first));
        assertEquals(5, index.get(second), "removing one leaves the other reachable");
    }

    @Test
    void anEmptyIndexFindsNothing() {
        PrefixIndex index = newIndex();
        assertEquals(-1, index.get(new BlockHash(1, 2, 3, 4)));
        assertEquals(0, index.size());
    }

    /** Indexes {@code id} under {@code h} unless another block holds it (what caching does). */
    private static boolean put(PrefixIndex index, BlockHash h, int id) {
        return index.putIfAbsent(h.h0(), h.h1(), h.h2(), h.h3(), id);
    }

    private static PrefixIndex newIndex() {
        int[] records = BlockRecords.newTable(BLOCKS);
        return new PrefixIndex(new CachedHashes(records), records);
    }
}
