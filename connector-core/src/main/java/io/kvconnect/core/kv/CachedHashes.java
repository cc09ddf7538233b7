package io.kvconnect.core.kv;

import static io.kvconnect.core.kv.BlockRecords.FLAGS;
import static io.kvconnect.core.kv.BlockRecords.HASH;
import static io.kvconnect.core.kv.BlockRecords.HASHED;
import static io.kvconnect.core.kv.BlockRecords.at;

import io.kvconnect.api.common.BlockHash;
import org.jspecify.annotations.Nullable;

/**
 * The hash each block of a {@link BlockPool} is cached under, kept as plain words in the block's
 * {@link BlockRecords} record, next to the state the pool reads when it takes the block.
 *
 * <p><b>Why not a {@code BlockHash[]}.</b> A pool keeps a freed block's hash until the block is
 * taken again, so in steady state nearly every block of the pool is cached. A reference array would
 * keep one {@code BlockHash} object alive per block: in a pool of a million blocks a million
 * objects that outlive young collections and fill the old generation, and every block cached or
 * evicted would store a reference into a large old array, which the garbage collector's write
 * barrier tracks card by card. It would also be one more cache miss per block taken. Plain words
 * are invisible to the collector; a hash becomes an object again only for a KV event or a caller
 * asking for it.
 *
 * <p><b>Thread.</b> The pool's thread only.
 */
final class CachedHashes {
    private final int[] records;

    /**
     * No hash for any block of {@code records}, a {@link BlockRecords} table (shared with the pool)
     * whose {@link BlockRecords#HASHED} flags are all clear.
     */
    CachedHashes(int[] records) {
        this.records = records;
    }

    /** Blocks covered. */
    int numBlocks() {
        return BlockRecords.numBlocks(records);
    }

    /** Whether block {@code id} has a hash. */
    boolean has(int id) {
        return (records[at(id, FLAGS)] & HASHED) != 0;
    }

    /** Block {@code id}'s hash, a new object each call, or {@code null}. */
    @Nullable
    BlockHash get(int id) {
        if (!has(id)) {
            return null;
        }
        int at = at(id, HASH);
        return new BlockHash(word(at), word(at + 2), word(at + 4), word(at + 6));
    }

    /** Whether block {@code id} has exactly {@code hash}. */
    boolean is(int id, BlockHash hash) {
        return is(id, hash.h0(), hash.h1(), hash.h2(), hash.h3());
    }

    /** Whether block {@code id} has exactly the hash of words {@code h0} to {@code h3}. */
    boolean is(int id, long h0, long h1, long h2, long h3) {
        int at = at(id, HASH);
        return has(id) && word(at) == h0 && word(at + 2) == h1 && word(at + 4) == h2 && word(at + 6) == h3;
    }

    /** Gives block {@code id} the hash {@code hash}. */
    void set(int id, BlockHash hash) {
        set(id, hash.h0(), hash.h1(), hash.h2(), hash.h3());
    }

    /** Gives block {@code id} the hash of words {@code h0} to {@code h3}. */
    void set(int id, long h0, long h1, long h2, long h3) {
        int at = at(id, HASH);
        setWord(at, h0);
        setWord(at + 2, h1);
        setWord(at + 4, h2);
        setWord(at + 6, h3);
        records[at(id, FLAGS)] |= HASHED;
    }

    /** Block {@code id} no longer has a hash. */
    void clear(int id) {
        records[at(id, FLAGS)] &= ~HASHED;
    }

    /** No block has a hash. */
    void clearAll() {
        for (int id = 0; id < numBlocks(); id++) {
            clear(id);
        }
    }

    private long word(int at) {
        return ((long) records[at + 1] << 32) | (records[at] & 0xFFFF_FFFFL);
    }

    private void setWord(int at, long value) {
        records[at] = (int) value;
        records[at + 1] = (int) (value >>> 32);
    }
}
