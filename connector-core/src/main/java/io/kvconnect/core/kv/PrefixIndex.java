package io.kvconnect.core.kv;

import io.kvconnect.api.common.BlockHash;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The prefix cache's index for {@link BlockPool}: which block holds a given hash.
 *
 * <p><b>Why not a {@code HashMap<BlockHash, Integer>}.</b> In steady decode every new block evicts
 * the least recently freed cached block, and every block that fills up is cached: one removal and
 * one insertion per block, on an index as large as the pool. A {@code HashMap} costs a node and a
 * boxed id per insertion (garbage on the scheduler step), and each removal reads three cold objects
 * (the table slot's node, the key's {@code BlockHash} to hash and compare it, the boxed id), so the
 * step's time grew with the pool. Here the table is one primitive array probed linearly: a slot is
 * one {@code long} holding a block id and a 32-bit fingerprint of its hash, so a probe compares
 * fingerprints in the table itself and reads the block's hash (in the pool's {@link CachedHashes})
 * only to confirm a match, and
 * each slot visited is one memory access (in a pool of a million blocks the table is far larger
 * than the caches, so every slot first touched is a cache miss; a table of ids and one of
 * fingerprints cost two). A removal knows the block's fingerprint from the block's record in the
 * pool's {@link BlockRecords} (already in a cache: the pool has just read that record) and never
 * reads the hash at all. Removal shifts later entries of the probe run back (no tombstones), so a
 * table that sees removals forever never degrades.
 *
 * <p>The table holds at most one entry per usable block and is sized to at least twice that, so a
 * probe run stays short; it is allocated on the first insertion (a pool without caching never
 * needs it).
 *
 * <p><b>Thread.</b> The pool's thread only, like the pool.
 */
final class PrefixIndex {
    /** An empty slot: block 0 is the null block, never cached, so an occupied slot is never 0. */
    private static final long EMPTY = 0;

    /** The pool's hash of each block, read to confirm a fingerprint match. */
    private final CachedHashes hashes;

    private final int capacity;
    /** Per slot: the fingerprint in the high 32 bits, the block id in the low 32; {@link #EMPTY} if none. */
    private long @Nullable [] slots;
    /**
     * The pool's {@link BlockRecords}: the index keeps each indexed block's fingerprint in its
     * {@link BlockRecords#FINGERPRINT} field, so a removal never reads the hash.
     */
    private final int[] records;

    private int mask;
    private int size;

    /**
     * An index over the pool's per-block hashes, keeping fingerprints in the pool's {@code records}
     * (a {@link BlockRecords} table for as many blocks).
     */
    PrefixIndex(CachedHashes hashes, int[] records) {
        if (BlockRecords.numBlocks(records) != hashes.numBlocks()) {
            throw new IllegalArgumentException(
                    hashes.numBlocks() + " hashes but records for " + BlockRecords.numBlocks(records) + " blocks");
        }
        this.hashes = hashes;
        this.records = records;
        // A power of two at least twice the number of blocks: a load factor of at most one half.
        this.capacity = Integer.highestOneBit(Math.max(2, hashes.numBlocks()) * 2 - 1) * 2;
    }

    /** Indexed blocks. */
    int size() {
        return size;
    }

    /** The block indexed under {@code hash}, or -1. */
    int get(BlockHash hash) {
        return get(hash.h0(), hash.h1(), hash.h2(), hash.h3());
    }

    /** The block indexed under the hash of words {@code h0} to {@code h3}, or -1. */
    int get(long h0, long h1, long h2, long h3) {
        long[] table = slots;
        if (table == null || size == 0) {
            return -1;
        }
        int fp = fingerprint(h0, h1, h2, h3);
        for (int i = home(fp); ; i = (i + 1) & mask) {
            long slot = table[i];
            if (slot == EMPTY) {
                return -1;
            }
            int id = (int) slot;
            if ((int) (slot >>> 32) == fp && hashes.is(id, h0, h1, h2, h3)) {
                return id;
            }
        }
    }

    /**
     * Indexes block {@code id} (not indexed) under the hash of words {@code h0} to {@code h3},
     * unless a block is indexed under that hash already: a lookup and an insertion in one probe
     * (caching a block that fills is both, 16 times per step at 256 decoding requests).
     *
     * @return whether {@code id} was indexed; {@code false} if another block holds the hash
     */
    boolean putIfAbsent(long h0, long h1, long h2, long h3, int id) {
        if (slots == null) {
            slots = new long[capacity];
            mask = capacity - 1;
        }
        long[] table = slots;
        int fp = fingerprint(h0, h1, h2, h3);
        int i = home(fp);
        for (long slot = table[i]; slot != EMPTY; slot = table[i]) {
            if ((int) (slot >>> 32) == fp && hashes.is((int) slot, h0, h1, h2, h3)) {
                return false;
            }
            i = (i + 1) & mask;
        }
        table[i] = ((long) fp << 32) | (id & 0xFFFF_FFFFL);
        records[BlockRecords.at(id, BlockRecords.FINGERPRINT)] = fp;
        size++;
        return true;
    }

    /** Removes block {@code id}, which the caller guarantees is indexed. */
    void remove(int id) {
        long[] table = requireNonNull(slots);
        int i = home(records[BlockRecords.at(id, BlockRecords.FINGERPRINT)]);
        while ((int) table[i] != id) {
            if (table[i] == EMPTY) {
                throw new IllegalStateException("block " + id + " is not in the prefix index");
            }
            i = (i + 1) & mask;
        }
        // Backward-shift deletion: move each later entry of the run whose home is not in the
        // cyclic range (i, j] into the hole, so every entry stays reachable from its home.
        for (int j = (i + 1) & mask; table[j] != EMPTY; j = (j + 1) & mask) {
            int h = home((int) (table[j] >>> 32));
            boolean staysPut = i <= j ? (i < h && h <= j) : (i < h || h <= j);
            if (!staysPut) {
                table[i] = table[j];
                i = j;
            }
        }
        table[i] = EMPTY;
        size--;
    }

    /** The most hashes {@link #expect} remembers between two {@link #warmExpected} calls. */
    static final int MAX_EXPECTED = 512;

    /** Home slots of the hashes announced by {@link #expect}, until {@link #warmExpected}. */
    private final int[] expectedSlots = new int[MAX_EXPECTED];

    private int numExpected;

    /** What the warming loads read, summed: kept so the loads are not optimised away. Never read otherwise. */
    private long warmed;

    /**
     * Loads the slot a removal of indexed block {@code id} starts probing at (its fingerprint is in
     * its record), so that the removal finds it in the cache. Changes nothing.
     */
    void warmBlock(int id) {
        long[] table = slots;
        if (table != null) {
            warmed += table[home(records[BlockRecords.at(id, BlockRecords.FINGERPRINT)])];
        }
    }

    /**
     * A block is likely to be indexed soon under a hash whose {@link #fingerprint} is {@code fp}:
     * remembers the slot its insertion will probe, for {@link #warmExpected}. At most {@value
     * #MAX_EXPECTED} are remembered. Changes nothing else.
     */
    void expect(int fp) {
        if (slots != null && numExpected < expectedSlots.length) {
            expectedSlots[numExpected++] = home(fp);
        }
    }

    /**
     * Loads the slots remembered by {@link #expect} since the last call, in one loop of independent
     * loads the processor overlaps, and forgets them. Changes nothing else.
     */
    void warmExpected() {
        long[] table = slots;
        if (table != null) {
            long sum = warmed;
            for (int i = 0; i < numExpected; i++) {
                sum += table[expectedSlots[i]];
            }
            warmed = sum;
        }
        numExpected = 0;
    }

    /** Removes every entry. */
    void clear() {
        if (slots != null && size > 0) {
            Arrays.fill(slots, EMPTY);
        }
        size = 0;
    }

    /** Visits every indexed block id, in table order. */
    void forEachBlock(java.util.function.IntConsumer visitor) {
        long[] table = slots;
        if (table == null) {
            return;
        }
        for (long slot : table) {
            if (slot != EMPTY) {
                visitor.accept((int) slot);
            }
        }
    }

    private int home(int fp) {
        return fp & mask;
    }

    /**
     * 32 bits of the hash, mixed: block hashes are SHA-256 digests, but tests and connectors may
     * build any value, so all four words are folded in and the result goes through a finalizer.
     * Equal fingerprints are confirmed against the hash itself, so a collision costs a compare,
     * never a wrong block.
     */
    static int fingerprint(BlockHash h) {
        return fingerprint(h.h0(), h.h1(), h.h2(), h.h3());
    }

    /** {@link #fingerprint(BlockHash)} of the hash of words {@code h0} to {@code h3}. */
    static int fingerprint(long h0, long h1, long h2, long h3) {
        long x = h0;
        x = x * 0x9E3779B97F4A7C15L + h1;
        x = x * 0x9E3779B97F4A7C15L + h2;
        x = x * 0x9E3779B97F4A7C15L + h3;
        // MurmurHash3's 64-bit finalizer.
        x ^= x >>> 33;
        x *= 0xFF51AFD7ED558CCDL;
        x ^= x >>> 33;
        x *= 0xC4CEB9FE1A85EC53L;
        x ^= x >>> 33;
        return (int) (x ^ (x >>> 32));
    }

    private static <T> T requireNonNull(@Nullable T value) {
        if (value == null) {
            throw new IllegalStateException("the prefix index is empty");
        }
        return value;
    }
}
