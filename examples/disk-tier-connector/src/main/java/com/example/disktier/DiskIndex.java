package com.example.disktier;

import io.kvconnect.api.common.BlockHash;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The scheduler side's table of the blocks on disk, least recently used first. Scheduler thread
 * only; no I/O (the caller turns every eviction into a deletion order for the workers).
 *
 * <p>A block is <em>writing</em> from {@link #beginStore} until {@link #completeStore} (every
 * worker wrote its file) or {@link #abortStore}; only then is it <em>ready</em>: offered to
 * lookups and evictable. A writing block and a pinned one (a load will read it) are never evicted.
 * Every block counts against the capacity, writing or ready, since its files take the space.
 */
final class DiskIndex {
    private static final class Entry {
        /** The request whose store writes the block, until it is ready. */
        String writer;
        int pins;
        /** Its file was found bad while pinned: removed at the last unpin. */
        boolean dropped;
    }

    private final int capacity;
    private final LinkedHashMap<BlockHash, Entry> entries = new LinkedHashMap<>();

    /** An empty index of at most {@code capacity} blocks, at least 1. */
    DiskIndex(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1 block, got " + capacity);
        }
        this.capacity = capacity;
    }

    int size() {
        return entries.size();
    }

    /** {@return whether {@code hash} is held, writing or ready} */
    boolean contains(BlockHash hash) {
        return entries.containsKey(hash);
    }

    /** {@return whether {@code hash} is ready to load} */
    boolean isReady(BlockHash hash) {
        Entry e = entries.get(hash);
        return e != null && e.writer == null && !e.dropped;
    }

    /** Marks {@code hash} most recently used. */
    void touch(BlockHash hash) {
        Entry e = entries.remove(hash);
        if (e != null) {
            entries.put(hash, e);
        }
    }

    /**
     * Makes {@code hash} writing for {@code requestId}'s store, evicting least recently used ready
     * blocks that no load pins while the tier is full (appended to {@code evicted}).
     *
     * @return false if {@code hash} is held already or nothing can be evicted; then nothing changed
     *     but what was evicted
     */
    boolean beginStore(BlockHash hash, String requestId, List<BlockHash> evicted) {
        Objects.requireNonNull(requestId, "requestId");
        if (entries.containsKey(hash)) {
            return false;
        }
        Iterator<Map.Entry<BlockHash, Entry>> oldestFirst = entries.entrySet().iterator();
        while (entries.size() >= capacity && oldestFirst.hasNext()) {
            Map.Entry<BlockHash, Entry> e = oldestFirst.next();
            if (e.getValue().writer == null && e.getValue().pins == 0) {
                oldestFirst.remove();
                evicted.add(e.getKey());
            }
        }
        if (entries.size() >= capacity) {
            return false;
        }
        Entry e = new Entry();
        e.writer = requestId;
        entries.put(hash, e);
        return true;
    }

    /** {@return whether {@code hash}, written by {@code requestId}'s store, became ready} */
    boolean completeStore(BlockHash hash, String requestId) {
        Entry e = entries.get(hash);
        if (e == null || !requestId.equals(e.writer)) {
            return false;
        }
        e.writer = null;
        return true;
    }

    /** {@return whether {@code hash}, written by {@code requestId}'s store, was dropped} */
    boolean abortStore(BlockHash hash, String requestId) {
        Entry e = entries.get(hash);
        if (e == null || !requestId.equals(e.writer)) {
            return false;
        }
        entries.remove(hash);
        return true;
    }

    /** Pins a ready block: it is not evicted until {@link #unpin}. */
    void pin(BlockHash hash) {
        if (!isReady(hash)) {
            throw new IllegalStateException("block " + hash + " is not ready to load");
        }
        entries.get(hash).pins++;
    }

    /** {@return whether the block, found bad while pinned, is gone now} Gives back one pin. */
    boolean unpin(BlockHash hash) {
        Entry e = entries.get(hash);
        if (e == null || e.pins == 0) {
            throw new IllegalStateException("block " + hash + " is not pinned");
        }
        if (--e.pins == 0 && e.dropped) {
            entries.remove(hash);
            return true;
        }
        return false;
    }

    /**
     * Forgets a ready block whose file was found bad: at once, or at its last {@link #unpin}.
     *
     * @return whether it is gone now
     */
    boolean drop(BlockHash hash) {
        Entry e = entries.get(hash);
        if (e == null || e.writer != null) {
            return false;
        }
        if (e.pins > 0) {
            e.dropped = true;
            return false;
        }
        entries.remove(hash);
        return true;
    }
}
