package io.kvconnect.core.kv;

import static io.kvconnect.core.kv.BlockRecords.FLAGS;
import static io.kvconnect.core.kv.BlockRecords.HASHED;
import static io.kvconnect.core.kv.BlockRecords.NEXT;
import static io.kvconnect.core.kv.BlockRecords.PREV;
import static io.kvconnect.core.kv.BlockRecords.QUEUED;
import static io.kvconnect.core.kv.BlockRecords.at;

/**
 * A {@link BlockPool}'s free queue, least recently freed first: a doubly linked list through the
 * blocks' records ({@link BlockRecords#PREV}, {@link BlockRecords#NEXT}), so that every operation,
 * removal from the middle (a prefix hit on a free block) included, is O(1) and never stalls.
 *
 * <p><b>Warming.</b> In a large pool the block freed longest ago is cold: taking it misses on its
 * record, and evicting its hash misses on the prefix index slot that the removal probes. {@link
 * #warm} loads, before the allocations of a step, the records of the next blocks to be taken and
 * their index slots, so that those misses overlap instead of each allocation waiting for its own.
 *
 * <p><b>The append log.</b> Following the links to find those blocks is one miss after another: the
 * next block's id is in the record of the one before. At 256 decoding requests that walk alone took
 * about 1.7 us per step. So the queue also writes every appended id into a ring in append order
 * ({@link #log}): live entries of the list appear there in list order, because blocks only ever
 * join at the tail. {@link #upcoming} reads the next ids from the ring, where they are known
 * without reading any record, and accepts an id only if its record says it is queued right behind
 * the block accepted before it ({@code PREV}): the records of all the candidates are then loaded
 * at once, not one after another. An entry left behind by a removal from the middle, or by a block
 * that was appended again later, fails that check and is skipped; where the ring has no usable
 * entries (overwritten, or more stale ones than usable: reading them costs a miss each too) the
 * links are followed as before. The
 * ring is only a hint: what {@link #upcoming} returns is always exactly the head of the list.
 *
 * <p>Why not a ring alone, with lazy removal, instead of the links: a prefix hit on a free block
 * leaves a stale entry, and in a workload of mostly hits the stale entries outnumber the live ones
 * many times over, so such a ring fills up and must be compacted, a pause proportional to the pool.
 * Here the links stay the truth and the ring is simply overwritten.
 *
 * <p><b>Thread.</b> The pool's (engine) thread only.
 */
final class FreeQueue {
    private static final int NIL = -1;

    /**
     * The records shared with the pool; this class reads and writes {@code PREV}, {@code NEXT} and
     * the {@code QUEUED} bit of {@code FLAGS}.
     */
    private final int[] meta;

    private int head = NIL;
    private int tail = NIL;
    private int size;

    /**
     * Every appended id, in append order, at position {@code appended % log.length}: a power of two
     * at least twice the blocks, so that the head's entry is usually still there (8 to 16 bytes per
     * block beside the record's 64).
     */
    private final int[] log;

    private final int logMask;
    /** Appends so far: the log position of the next append. */
    private long appended;
    /**
     * A log position at or before the head's entry (if that entry was not overwritten): where
     * {@link #upcoming} starts looking for the head. Blocks join only at the tail, so a later head
     * has a later entry, and the hint never has to move back.
     */
    private long headAt;

    /**
     * The most log entries {@link #upcoming} compares with the head's id to find its entry (ids
     * only, in one sequential stretch of the log: no record is read).
     */
    private static final int MAX_SKIP = 256;

    /** An empty queue over {@code records}, a {@link BlockRecords} table. */
    FreeQueue(int[] records) {
        this.meta = records;
        int numBlocks = BlockRecords.numBlocks(records);
        int length = Integer.highestOneBit(Math.max(8, numBlocks) * 2 - 1) * 2;
        this.log = new int[length];
        this.logMask = length - 1;
    }

    /** The free blocks. */
    int size() {
        return size;
    }

    /** Whether {@code id} is in the queue. */
    boolean contains(int id) {
        return (meta[at(id, FLAGS)] & QUEUED) != 0;
    }

    /** Queues {@code id} (not queued) at the tail. */
    void append(int id) {
        meta[at(id, PREV)] = tail;
        meta[at(id, NEXT)] = NIL;
        if (tail == NIL) {
            head = id;
        } else {
            meta[at(tail, NEXT)] = id;
        }
        tail = id;
        meta[at(id, FLAGS)] |= QUEUED;
        size++;
        if (size == 1) {
            headAt = appended;
        }
        log[(int) appended & logMask] = id;
        appended++;
    }

    /** Takes {@code id} (queued) out of the queue wherever it is. */
    void remove(int id) {
        int p = meta[at(id, PREV)];
        int n = meta[at(id, NEXT)];
        if (p == NIL) {
            head = n;
        } else {
            meta[at(p, NEXT)] = n;
        }
        if (n == NIL) {
            tail = p;
        } else {
            meta[at(n, PREV)] = p;
        }
        meta[at(id, FLAGS)] &= ~QUEUED;
        size--;
    }

    /** Takes the head: the block freed longest ago. The queue must not be empty. */
    int poll() {
        int id = head;
        remove(id);
        return id;
    }

    /**
     * Loads the records of the next {@code n} blocks from the head and, for each with a hash, the
     * prefix index slot its eviction will probe, without changing anything (see the class comment).
     *
     * @param ids scratch room for at least {@code n} ids
     */
    void warm(int n, PrefixIndex index, int[] ids) {
        int k = upcoming(n, ids);
        for (int i = 0; i < k; i++) {
            int id = ids[i];
            if ((meta[at(id, FLAGS)] & HASHED) != 0) {
                index.warmBlock(id);
            }
        }
    }

    /**
     * Writes the first {@code min(n, size())} blocks from the head into {@code out}, in queue order,
     * and returns how many; the same as the first entries of {@link #order()}. Reads them from the
     * append log where it can (see the class comment), following the links where it cannot. Changes
     * nothing in the queue.
     */
    int upcoming(int n, int[] out) {
        int limit = Math.min(n, Math.min(size, out.length));
        if (limit <= 0) {
            return 0;
        }
        int[] ring = log;
        int[] records = meta;
        int k = 0;
        int prev = head;
        // Find the head's entry: at or after the hint, within the entries not yet overwritten.
        long p = Math.max(headAt, appended - ring.length);
        long end = Math.min(appended, p + MAX_SKIP);
        while (p < end && ring[(int) p & logMask] != prev) {
            p++;
        }
        out[k++] = prev;
        if (p < end) {
            headAt = p;
            // Each candidate's id comes from the ring, not from the record before it, so the
            // processor loads the candidates' records together; a candidate is the next block iff
            // it is queued right behind the one accepted last.
            // Rejecting a stale candidate costs a record read too, so after a stretch of prefix
            // hits the ring may cost more than the links: at most twice the blocks wanted, plus
            // a few, are examined before the links take over.
            long q = p + 1;
            long qEnd = Math.min(appended, q + 2L * limit + 8);
            while (k < limit && q < qEnd) {
                int c = ring[(int) q & logMask];
                q++;
                if ((records[at(c, FLAGS)] & QUEUED) != 0 && records[at(c, PREV)] == prev) {
                    out[k++] = c;
                    prev = c;
                }
            }
        } else {
            // Not found this near the hint: look further on next time (the entry, if it still
            // exists, is later).
            headAt = end;
        }
        // What the ring did not give: follow the links.
        while (k < limit) {
            prev = records[at(prev, NEXT)];
            out[k++] = prev;
        }
        return k;
    }

    /** The free blocks from head to tail. */
    int[] order() {
        int[] order = new int[size];
        int n = 0;
        for (int id = head; id != NIL && n < order.length; id = meta[at(id, NEXT)]) {
            order[n++] = id;
        }
        return order;
    }

    /**
     * Checks that the links are consistent, hold exactly the queued blocks, and count the size.
     *
     * @throws IllegalStateException naming the first violation
     */
    void check() {
        int count = 0;
        int last = NIL;
        int numBlocks = BlockRecords.numBlocks(meta);
        for (int id = head; id != NIL; id = meta[at(id, NEXT)]) {
            if (id <= 0 || id >= numBlocks || !contains(id) || meta[at(id, PREV)] != last) {
                throw new IllegalStateException("free queue corrupt at block " + id);
            }
            last = id;
            if (++count > numBlocks) {
                throw new IllegalStateException("free queue has a cycle");
            }
        }
        if (last != tail || count != size) {
            throw new IllegalStateException("free queue holds " + count + " blocks, its size is " + size);
        }
        int queued = 0;
        for (int id = 1; id < numBlocks; id++) {
            if (contains(id)) {
                queued++;
            }
        }
        if (queued != size) {
            throw new IllegalStateException(queued + " blocks are queued, the free queue's size is " + size);
        }
    }
}
