package io.kvconnect.tools.capacity;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * The optimal offline policy: Belady's MIN with bypass. At every event of a block that is not
 * resident it inserts the block if some resident block's next lookup is later than this block's
 * (evicting the one whose next lookup is furthest, or never comes) or a slot is free, and
 * otherwise leaves the block out. On the reference model of {@link ReferenceStream}, where a block
 * may be inserted at any of its events, no policy of the same capacity has more block hits.
 *
 * <p>Its prefix hits are those of the same choices counted with prefix semantics: what MIN's
 * residency would load. No policy has more prefix hits than MIN has block hits, so the prefix
 * optimum lies between the two numbers.
 *
 * <p>O(n log c) per capacity: the residents are ordered by next lookup in a tree.
 */
final class Belady {
    private Belady() {}

    /** MIN's hits at {@code capacity} blocks. */
    static Hits simulate(ReferenceStream s, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        // Resident blocks keyed by (next counted use, block): the last is the one to evict.
        TreeSet<Long> byNextUse = new TreeSet<>();
        long[] keyOf = new long[s.distinctBlocks];
        Arrays.fill(keyOf, -1);
        long blockHits = 0;
        long prefixHits = 0;
        int chain = -1;
        boolean chainBroken = false;
        for (int i = 0; i < s.length(); i++) {
            int b = s.block[i];
            boolean resident = keyOf[b] >= 0;
            if (s.counted[i]) {
                if (s.chain[i] != chain) {
                    chain = s.chain[i];
                    chainBroken = false;
                }
                if (resident) {
                    blockHits++;
                    if (!chainBroken) {
                        prefixHits++;
                    }
                } else {
                    chainBroken = true;
                }
            }
            int next = s.nextCountedUse[i];
            long key = ((long) next << 31) | b;
            if (resident) {
                byNextUse.remove(keyOf[b]);
                if (next == Integer.MAX_VALUE) {
                    keyOf[b] = -1; // never looked up again: dropping it costs nothing and frees a slot
                } else {
                    byNextUse.add(key);
                    keyOf[b] = key;
                }
                continue;
            }
            if (next == Integer.MAX_VALUE) {
                continue;
            }
            if (byNextUse.size() >= capacity) {
                long furthest = byNextUse.last();
                if (furthest < key) {
                    continue; // bypass: every resident is looked up before this block
                }
                byNextUse.pollLast();
                keyOf[(int) (furthest & Integer.MAX_VALUE)] = -1;
            }
            byNextUse.add(key);
            keyOf[b] = key;
        }
        return new Hits(capacity, s.lookups, blockHits, prefixHits);
    }
}
