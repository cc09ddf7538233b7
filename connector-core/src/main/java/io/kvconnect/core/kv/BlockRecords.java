package io.kvconnect.core.kv;

/**
 * The per-block state of a {@link BlockPool}, its {@link CachedHashes}, its {@link PrefixIndex}
 * and its {@link GrantLedger}, in one {@code int} array: a record of {@value #STRIDE} ints (64
 * bytes, one cache line) per block, side by side.
 *
 * <p><b>Why one table.</b> Under LRU eviction the pool takes the block freed longest ago, so in a
 * large pool that block's state is almost never in a cache: every separate per-block array it is
 * looked up in costs a cache miss, and with the table far larger than the processor's address
 * translation cache, a page walk too. Taking a block reads and writes its free-queue links and
 * reference count (the pool), its hash, to report it evicted (the cached hashes), the fingerprint
 * that finds the index slot it leaves (the index) and its generation and changed flag (the ledger).
 * With one array per class that was five misses per block; here it is one. {@link #FIRST} pads the
 * records so that, on the usual object layout (a 16-byte array header, a large array starting on a
 * cache line), none straddles two cache lines.
 *
 * <p>Each class reads and writes only its own fields, named below. <b>Thread:</b> the pool's
 * (engine) thread only.
 */
final class BlockRecords {
    /** Ints per block. */
    static final int STRIDE = 16;

    /** The pool's reference count. */
    static final int REF = 0;
    /** The free queue's neighbour towards the head, or -1 ({@link FreeQueue}). */
    static final int PREV = 1;
    /** The free queue's neighbour towards the tail, or -1 ({@link FreeQueue}). */
    static final int NEXT = 2;
    /** Flag bits: {@link #QUEUED} and {@link #HASHED}. */
    static final int FLAGS = 3;
    /** The index's fingerprint of the block's hash, while the block is indexed. */
    static final int FINGERPRINT = 4;
    /** The ledger's generation: odd while the block is in use. */
    static final int GENERATION = 5;
    /** The ledger's generation in which the block was granted as a load target; 0 for none. */
    static final int LOAD_TARGET = 6;
    /** 1 while the block is in the ledger's list of changes. */
    static final int IS_CHANGED = 7;
    /** The cached hash's four 64-bit words as eight ints, low half first (the cached hashes'). */
    static final int HASH = 8;

    /** In {@link #FLAGS}: the block is in the pool's free queue (the free queue's). */
    static final int QUEUED = 1;
    /** In {@link #FLAGS}: the block has a hash (the cached hashes'). */
    static final int HASHED = 2;

    /**
     * Where block 0's record starts: 12 ints (48 bytes) of padding after the 16-byte array header
     * put every record at a multiple of 64 bytes from the array's start.
     */
    private static final int FIRST = 12;

    private BlockRecords() {}

    /** A zeroed table for {@code numBlocks} blocks (the null block included). */
    static int[] newTable(int numBlocks) {
        return new int[Math.addExact(FIRST, Math.multiplyExact(numBlocks, STRIDE))];
    }

    /** The index of block {@code id}'s field {@code field} in a table. */
    static int at(int id, int field) {
        return FIRST + id * STRIDE + field;
    }

    /** Blocks a table made by {@link #newTable} covers. */
    static int numBlocks(int[] table) {
        return (table.length - FIRST) / STRIDE;
    }
}
