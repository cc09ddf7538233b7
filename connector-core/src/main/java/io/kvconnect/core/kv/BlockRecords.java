package io.kvconnect.core.kv;

/**
 * The per-block state of a {@link BlockPool}, its {@link PrefixIndex} and its {@link GrantLedger},
 * in one {@code int} array: a record of {@value #STRIDE} ints per block, side by side.
 *
 * <p><b>Why one table for three classes.</b> Under LRU eviction the pool takes the block freed
 * longest ago, so in a large pool that block's state is almost never in a cache: each separate
 * per-block array it is looked up in costs a cache miss of its own. Allocating a block reads and
 * writes its free-queue links and reference count (the pool), its hash's fingerprint (the index,
 * to find the slot it leaves) and its generation and changed flag (the ledger). With one array per
 * class that was three misses per block; here the record is 32 bytes, and on the usual object
 * layout (a 16-byte array header, a large table starting on a cache line) {@link #FIRST} pads the
 * records so that none straddles two 64-byte lines: one miss per block.
 *
 * <p>Each class reads and writes only its own fields, named below. <b>Thread:</b> the pool's
 * (engine) thread only.
 */
final class BlockRecords {
    /** Ints per block. */
    static final int STRIDE = 8;

    /** The pool's reference count. */
    static final int REF = 0;
    /** The pool's free-queue neighbour towards the head, or -1. */
    static final int PREV = 1;
    /** The pool's free-queue neighbour towards the tail, or -1. */
    static final int NEXT = 2;
    /** 1 while the block is in the pool's free queue. */
    static final int QUEUED = 3;
    /** The index's fingerprint of the block's hash, while the block is indexed. */
    static final int FINGERPRINT = 4;
    /** The ledger's generation: odd while the block is in use. */
    static final int GENERATION = 5;
    /** The ledger's generation in which the block was granted as a load target; 0 for none. */
    static final int LOAD_TARGET = 6;
    /** 1 while the block is in the ledger's list of changes. */
    static final int IS_CHANGED = 7;

    /**
     * Where block 0's record starts: 4 ints (16 bytes) of padding after the 16-byte array header
     * put every record at a multiple of 32 bytes from the array's start.
     */
    private static final int FIRST = 4;

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
