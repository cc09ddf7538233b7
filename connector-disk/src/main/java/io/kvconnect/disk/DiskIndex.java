package io.kvconnect.disk;

import io.kvconnect.api.common.BlockHash;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The scheduler side's table of the blocks on disk, bounded by a number of blocks, least recently
 * used evicted first. Scheduler thread only.
 *
 * <p>States: a key is <em>writing</em> from {@link #beginStore} until {@link #completeStore}; only
 * then is it <em>ready</em>: offered for hits, known to the LRU order. A ready key with pins (loads
 * in flight) is never evicted or removed; a writing key is never loaded or evicted. A key found bad
 * while pinned ({@link #discard}) is no longer offered and goes when its last pin does.
 *
 * <p>Keys that leave the table collect in {@link #takeRemoved} (their files must be deleted): those
 * that were ready (announced in a KV event) and those that never were (a failed store).
 */
final class DiskIndex {
    private static final class Entry {
        boolean ready;
        boolean discarded;
        int pins;
    }

    private final long capacity;
    private final Map<BlockHash, Entry> entries = new HashMap<>();
    /** Ready keys, least recently used first. */
    private final LinkedHashSet<BlockHash> lru = new LinkedHashSet<>();

    private final List<BlockHash> removedReady = new ArrayList<>();
    private final List<BlockHash> removedUnready = new ArrayList<>();
    private int writing;
    private int pinned;

    DiskIndex(long capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1 block, got " + capacity);
        }
        this.capacity = capacity;
    }

    long capacity() {
        return capacity;
    }

    /** Keys held, writing or ready. */
    int size() {
        return entries.size();
    }

    boolean contains(BlockHash key) {
        return entries.containsKey(key);
    }

    /** Whether {@code key} is complete, not discarded, and may be loaded. */
    boolean isReady(BlockHash key) {
        Entry e = entries.get(key);
        return e != null && e.ready && !e.discarded;
    }

    int pins(BlockHash key) {
        Entry e = entries.get(key);
        return e == null ? 0 : e.pins;
    }

    /** Whether any store is in flight or any key is pinned. */
    boolean busy() {
        return writing > 0 || pinned > 0;
    }

    /**
     * Adds a block found on disk at start as ready and most recently used; a full table evicts
     * its least recently used key first.
     */
    void addFound(BlockHash key) {
        if (entries.containsKey(key)) {
            return;
        }
        if (entries.size() >= capacity && !evictOne()) {
            removedUnready.add(key);
            return;
        }
        Entry e = new Entry();
        e.ready = true;
        entries.put(key, e);
        lru.add(key);
    }

    /**
     * Reserves room for {@code key}, evicting ready unpinned keys if the table is full. The key is
     * then writing.
     *
     * @return false if the key is already held or nothing can be evicted
     */
    boolean beginStore(BlockHash key) {
        if (entries.containsKey(key)) {
            return false;
        }
        if (entries.size() >= capacity && !evictOne()) {
            return false;
        }
        entries.put(key, new Entry());
        writing++;
        return true;
    }

    private boolean evictOne() {
        for (Iterator<BlockHash> it = lru.iterator(); it.hasNext(); ) {
            BlockHash key = it.next();
            if (entries.get(key).pins == 0) {
                it.remove();
                entries.remove(key);
                removedReady.add(key);
                return true;
            }
        }
        return false;
    }

    /** Ends a store: on success the key becomes ready; on failure it is removed. */
    void completeStore(BlockHash key, boolean ok) {
        Entry e = require(key);
        if (e.ready) {
            throw new IllegalStateException("key " + key + " is not being written");
        }
        writing--;
        if (ok) {
            e.ready = true;
            lru.add(key);
        } else {
            entries.remove(key);
            removedUnready.add(key);
        }
    }

    /** Pins a ready key against eviction (a load will read it). */
    void pin(BlockHash key) {
        Entry e = require(key);
        if (!e.ready) {
            throw new IllegalStateException("key " + key + " is being written and cannot be loaded");
        }
        if (e.pins++ == 0) {
            pinned++;
        }
    }

    /** Gives back a pin taken with {@link #pin}; a discarded key goes with its last pin. */
    void unpin(BlockHash key) {
        Entry e = require(key);
        if (e.pins <= 0) {
            throw new IllegalStateException("key " + key + " is not pinned");
        }
        if (--e.pins == 0) {
            pinned--;
            if (e.discarded) {
                remove(key);
            }
        }
    }

    /** A lookup hit {@code key}: it becomes most recently used. */
    void touch(BlockHash key) {
        if (lru.remove(key)) {
            lru.add(key);
        }
    }

    /** A load found {@code key}'s file bad: it is removed now, or with its last pin. */
    void discard(BlockHash key) {
        Entry e = entries.get(key);
        if (e == null || !e.ready) {
            return;
        }
        if (e.pins == 0) {
            remove(key);
        } else {
            e.discarded = true;
        }
    }

    private void remove(BlockHash key) {
        entries.remove(key);
        lru.remove(key);
        removedReady.add(key);
    }

    /**
     * Drops every key (their files must be deleted: they are in {@link #takeRemoved}).
     *
     * @throws IllegalStateException if a store is in flight or a key is pinned
     */
    void clear() {
        if (busy()) {
            throw new IllegalStateException(
                    "cannot clear the tier: " + writing + " store(s) in flight, " + pinned + " key(s) pinned");
        }
        removedReady.addAll(entries.keySet());
        entries.clear();
        lru.clear();
    }

    /**
     * The keys removed since the last call.
     *
     * @param ready those that were ready (to announce as removed)
     * @param unready those that never were (failed stores, blocks found beyond the capacity)
     */
    record Removed(List<BlockHash> ready, List<BlockHash> unready) {
        boolean isEmpty() {
            return ready.isEmpty() && unready.isEmpty();
        }
    }

    Removed takeRemoved() {
        Removed out = new Removed(List.copyOf(removedReady), List.copyOf(removedUnready));
        removedReady.clear();
        removedUnready.clear();
        return out;
    }

    private Entry require(BlockHash key) {
        Entry e = entries.get(key);
        if (e == null) {
            throw new IllegalStateException("key " + key + " is not in the tier");
        }
        return e;
    }
}
