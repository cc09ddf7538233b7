package io.kvconnect.core.kv;

import static io.kvconnect.core.kv.BlockRecords.FLAGS;
import static io.kvconnect.core.kv.BlockRecords.QUEUED;
import static io.kvconnect.core.kv.BlockRecords.QUEUE_SLOT;
import static io.kvconnect.core.kv.BlockRecords.at;

/**
 * A {@link BlockPool}'s free queue, least recently freed first: the free blocks' ids in a ring, in
 * the order they were freed, with removal from the middle done lazily.
 *
 * <p><b>Why a ring, not a linked list.</b> The pool takes the block freed longest ago; in a large
 * pool its record is almost never in a cache. A doubly linked list also wrote the record of the
 * taken block's neighbour (its link back), a second cache miss per allocation, and a prefix hit on a
 * free block wrote both its neighbours' records, two more. And the next blocks to be taken were
 * known only by following links, one miss after another. Here the queue's order lives in the ring:
 * taking a block reads its own record only, a prefix hit only clears a flag in the block's own
 * record, and the next blocks to be taken are the ring's next entries, so {@link #warm} can load
 * their records at once, not one after another.
 *
 * <p><b>Lazy removal.</b> {@link #remove} leaves the block's entry in the ring. An entry is live when
 * its block is queued ({@link BlockRecords#QUEUED}) and its record names the entry's slot ({@link
 * BlockRecords#QUEUE_SLOT}): a block freed again after a removal has a newer entry, and the older
 * one is skipped when the head reaches it. The ring holds at least twice the pool's blocks; when it
 * fills up with skipped entries, {@link #compact} keeps the live ones, so each entry is moved at most
 * once per pool's worth of frees.
 *
 * <p><b>Thread.</b> The pool's (engine) thread only.
 */
final class FreeQueue {
    /** The records shared with the pool; this class reads and writes {@code FLAGS}' {@code QUEUED} bit and {@code QUEUE_SLOT}. */
    private final int[] meta;

    private final int[] ring;
    private final int mask;
    /** Absolute positions; an entry's slot is its position masked. */
    private long head;

    private long tail;
    /** Live entries: the free blocks. */
    private int size;

    /**
     * Blocks {@link #warm} touched, summed: kept so the loads are not optimised away. Never read
     * for anything else.
     */
    private long warmed;

    /** An empty queue over {@code records}, a {@link BlockRecords} table. */
    FreeQueue(int[] records) {
        this.meta = records;
        int capacity = Integer.highestOneBit(Math.max(2, BlockRecords.numBlocks(records)) * 2 - 1) * 2;
        this.ring = new int[capacity];
        this.mask = capacity - 1;
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
        if (tail - head == ring.length) {
            compact();
        }
        int slot = (int) (tail & mask);
        ring[slot] = id;
        meta[at(id, QUEUE_SLOT)] = slot;
        meta[at(id, FLAGS)] |= QUEUED;
        tail++;
        size++;
    }

    /** Takes {@code id} (queued) out of the queue wherever it is. */
    void remove(int id) {
        meta[at(id, FLAGS)] &= ~QUEUED;
        size--;
    }

    /** Takes the head: the block freed longest ago. The queue must not be empty. */
    int poll() {
        while (true) {
            int slot = (int) (head & mask);
            int id = ring[slot];
            head++;
            if (live(id, slot)) {
                meta[at(id, FLAGS)] &= ~QUEUED;
                size--;
                return id;
            }
        }
    }

    /**
     * Loads the records of the next {@code n} entries from the head, live or not, and for each
     * block with a hash the prefix index slot its removal will probe, without changing anything:
     * independent loads the processor overlaps, so that what the coming allocations read is in the
     * cache when they take the blocks, instead of each costing a miss of its own then.
     */
    void warm(int n, PrefixIndex index) {
        long sum = warmed;
        long end = Math.min(tail, head + n);
        for (long p = head; p < end; p++) {
            int id = ring[(int) (p & mask)];
            int flags = meta[at(id, FLAGS)];
            sum += flags;
            if ((flags & BlockRecords.HASHED) != 0) {
                sum += index.warmSlot(index.homeSlotOf(id));
            }
        }
        warmed = sum;
    }

    /** The free blocks from head to tail. */
    int[] order() {
        int[] order = new int[size];
        int n = 0;
        for (long p = head; p < tail; p++) {
            int slot = (int) (p & mask);
            if (live(ring[slot], slot)) {
                order[n++] = ring[slot];
            }
        }
        return order;
    }

    /**
     * Checks that the live entries are exactly the queued blocks, each once.
     *
     * @throws IllegalStateException naming the first violation
     */
    void check() {
        int live = 0;
        for (long p = head; p < tail; p++) {
            int slot = (int) (p & mask);
            int id = ring[slot];
            if (id <= 0 || id >= BlockRecords.numBlocks(meta)) {
                throw new IllegalStateException("free queue entry " + p + " holds block id " + id);
            }
            if (live(id, slot)) {
                live++;
            }
        }
        if (live != size) {
            throw new IllegalStateException("free queue holds " + live + " live entries, its size is " + size);
        }
        int queued = 0;
        for (int id = 1; id < BlockRecords.numBlocks(meta); id++) {
            if (contains(id)) {
                queued++;
                int slot = meta[at(id, QUEUE_SLOT)];
                long p = head + ((slot - head) & mask);
                if (p >= tail || ring[slot] != id) {
                    throw new IllegalStateException("queued block " + id + " has no live entry");
                }
            }
        }
        if (queued != size) {
            throw new IllegalStateException(queued + " blocks are queued, the free queue's size is " + size);
        }
    }

    private boolean live(int id, int slot) {
        return (meta[at(id, FLAGS)] & QUEUED) != 0 && meta[at(id, QUEUE_SLOT)] == slot;
    }

    /** Moves the live entries together from the head on, in order, dropping the others. */
    private void compact() {
        long to = head;
        for (long p = head; p < tail; p++) {
            int slot = (int) (p & mask);
            int id = ring[slot];
            if (live(id, slot)) {
                int newSlot = (int) (to & mask);
                ring[newSlot] = id;
                meta[at(id, QUEUE_SLOT)] = newSlot;
                to++;
            }
        }
        tail = to;
    }
}
