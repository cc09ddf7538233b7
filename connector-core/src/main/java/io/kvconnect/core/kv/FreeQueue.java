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
 * #warm} walks the next blocks to be taken and loads, for each, the index slot as well. The walk
 * itself follows links, one miss after another (misses the allocation would take anyway), but each
 * index slot load depends only on its block's record, so the processor overlaps it with the walk
 * instead of the allocation waiting for it alone later.
 *
 * <p>Why not a ring of ids with lazy removal, which would know the next blocks without following
 * links: a prefix hit on a free block leaves a stale entry, and in a workload of mostly hits the
 * stale entries outnumber the live ones many times over, so the ring fills up and must be
 * compacted, a pause proportional to the pool (by estimate, a cache miss per entry: some hundreds
 * of milliseconds for a pool of a million blocks).
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

    /** An empty queue over {@code records}, a {@link BlockRecords} table. */
    FreeQueue(int[] records) {
        this.meta = records;
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
     */
    void warm(int n, PrefixIndex index) {
        int id = head;
        for (int k = 0; k < n && id != NIL; k++) {
            if ((meta[at(id, FLAGS)] & HASHED) != 0) {
                index.warmBlock(id);
            }
            id = meta[at(id, NEXT)];
        }
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
