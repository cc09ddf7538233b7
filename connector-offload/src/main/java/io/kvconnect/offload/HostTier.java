package io.kvconnect.offload;

import io.kvconnect.api.common.BlockHash;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The scheduler side's table of the host tier: which key lives in which slot, whether its content
 * is complete, how many loads pin it, and which slots are free. The scheduler decides slot numbers
 * and sends them to every worker, so all ranks use the same slots. Scheduler thread only.
 *
 * <p>States: a key is <em>writing</em> from {@link #beginStore} until {@link #completeStore}; only
 * then is it <em>ready</em>, offered for hits and known to the eviction policy. A ready key with
 * pins (loads in flight) is never evicted. A writing key is never loaded or evicted.
 *
 * <p>Not final, and only package-private, so that the module's tests can seed a bug into one
 * method and show the conformance kit catching it.
 */
class HostTier {
    /** One key's slot and state. */
    static final class Entry {
        final int slot;
        boolean ready;
        int pins;

        Entry(int slot) {
            this.slot = slot;
        }
    }

    private final int numSlots;
    private final EvictionPolicy policy;
    private final Map<BlockHash, Entry> entries = new HashMap<>();
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private int writing;
    private int pinned;

    HostTier(int numSlots, EvictionPolicy policy) {
        if (numSlots < 1) {
            throw new IllegalArgumentException("numSlots must be >= 1, got " + numSlots);
        }
        this.numSlots = numSlots;
        this.policy = policy;
        resetSlots();
    }

    private void resetSlots() {
        freeSlots.clear();
        for (int s = 0; s < numSlots; s++) {
            freeSlots.addLast(s);
        }
    }

    int numSlots() {
        return numSlots;
    }

    int numFreeSlots() {
        return freeSlots.size();
    }

    /** Keys held, writing or ready. */
    int size() {
        return entries.size();
    }

    boolean contains(BlockHash key) {
        return entries.containsKey(key);
    }

    /** Whether {@code key} is complete and may be loaded. */
    boolean isReady(BlockHash key) {
        Entry e = entries.get(key);
        return e != null && e.ready;
    }

    /** The slot of a held key. */
    int slot(BlockHash key) {
        return require(key).slot;
    }

    /** Pins held on {@code key} (0 if absent). */
    int pins(BlockHash key) {
        Entry e = entries.get(key);
        return e == null ? 0 : e.pins;
    }

    /** Whether any store is in flight or any key is pinned. */
    boolean busy() {
        return writing > 0 || pinned > 0;
    }

    /**
     * Reserves a slot for {@code key}, evicting ready unpinned keys if no slot is free (their keys
     * are appended to {@code evicted}). The key is then writing.
     *
     * @return the slot, or -1 if the key is already held or nothing can be evicted
     */
    int beginStore(BlockHash key, List<BlockHash> evicted) {
        if (entries.containsKey(key)) {
            return -1;
        }
        Integer slot = freeSlots.pollFirst();
        if (slot == null) {
            BlockHash victim = policy.evict(k -> {
                Entry e = entries.get(k);
                return e != null && e.ready && e.pins == 0;
            });
            if (victim == null) {
                return -1;
            }
            slot = entries.remove(victim).slot;
            evicted.add(victim);
        }
        entries.put(key, new Entry(slot));
        writing++;
        return slot;
    }

    /** Ends a store: on success the key becomes ready; on failure it is dropped and its slot freed. */
    void completeStore(BlockHash key, boolean ok) {
        Entry e = require(key);
        if (e.ready) {
            throw new IllegalStateException("key " + key + " is not being written");
        }
        writing--;
        if (ok) {
            e.ready = true;
            policy.insert(key);
        } else {
            entries.remove(key);
            freeSlots.addFirst(e.slot);
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

    /** Gives back a pin taken with {@link #pin}. */
    void unpin(BlockHash key) {
        Entry e = require(key);
        if (e.pins <= 0) {
            throw new IllegalStateException("key " + key + " is not pinned");
        }
        if (--e.pins == 0) {
            pinned--;
        }
    }

    /** A lookup hit {@code key} (or a ghost of it). */
    void touch(BlockHash key) {
        policy.touch(key);
    }

    /**
     * Drops every key.
     *
     * @throws IllegalStateException if a store is in flight or a key is pinned
     */
    void clear() {
        if (busy()) {
            throw new IllegalStateException(
                    "cannot clear the tier: " + writing + " store(s) in flight, " + pinned + " key(s) pinned");
        }
        entries.clear();
        policy.clear();
        resetSlots();
    }

    private Entry require(BlockHash key) {
        Entry e = entries.get(key);
        if (e == null) {
            throw new IllegalStateException("key " + key + " is not in the tier");
        }
        return e;
    }
}
