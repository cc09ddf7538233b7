package io.kvconnect.tools.capacity;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@link TierTrace} as the reference stream every policy here is judged on: one event per block
 * of every access, in order, each block renumbered densely from 0. An event of a lookup is a
 * <em>counted</em> reference (a hit if the block is resident); an event of an offer is an uncounted
 * one (the block may be inserted, nothing is scored). At any event a policy may insert the block,
 * whether it hit or not (the block is computed or loaded anyway, so a tier may keep it).
 *
 * <p>Each counted event also belongs to its lookup's chain ({@link #chain}): with prefix
 * semantics a lookup hits only up to its first miss, since a block's KV is useless without the
 * KV of every block before it.
 *
 * <p>Immutable; built once per analysis.
 */
final class ReferenceStream {
    /** The block of each event, numbered densely from 0. */
    final int[] block;
    /** Whether each event is a lookup's (counted). */
    final boolean[] counted;
    /** The lookup each counted event belongs to; -1 for an offer's. */
    final int[] chain;
    /** Distinct blocks. */
    final int distinctBlocks;
    /** Lookups. */
    final int chains;
    /** Counted events. */
    final long lookups;
    /**
     * For each event, the index of the next counted event of the same block, or {@link
     * Integer#MAX_VALUE} if none: what Belady's MIN evicts by.
     */
    final int[] nextCountedUse;

    ReferenceStream(int[] block, boolean[] counted, int[] chain) {
        if (block.length != counted.length || block.length != chain.length) {
            throw new IllegalArgumentException("events of unequal lengths");
        }
        this.block = block;
        this.counted = counted;
        this.chain = chain;
        int max = -1;
        int chains = 0;
        long lookups = 0;
        for (int i = 0; i < block.length; i++) {
            max = Math.max(max, block[i]);
            if (counted[i]) {
                lookups++;
                chains = Math.max(chains, chain[i] + 1);
            }
        }
        this.distinctBlocks = max + 1;
        this.chains = chains;
        this.lookups = lookups;
        this.nextCountedUse = new int[block.length];
        int[] next = new int[distinctBlocks];
        Arrays.fill(next, Integer.MAX_VALUE);
        for (int i = block.length - 1; i >= 0; i--) {
            nextCountedUse[i] = next[block[i]];
            if (counted[i]) {
                next[block[i]] = i;
            }
        }
    }

    /** The stream of {@code trace}. */
    static ReferenceStream of(TierTrace trace) {
        int n = 0;
        for (TierTrace.Access a : trace.accesses()) {
            n = Math.addExact(n, a.blocks().length);
        }
        int[] block = new int[n];
        boolean[] counted = new boolean[n];
        int[] chain = new int[n];
        Map<Long, Integer> ids = new HashMap<>();
        int i = 0;
        int lookup = 0;
        for (TierTrace.Access a : trace.accesses()) {
            boolean isLookup = a instanceof TierTrace.Lookup;
            for (long b : a.blocks()) {
                block[i] = ids.computeIfAbsent(b, k -> ids.size());
                counted[i] = isLookup;
                chain[i] = isLookup ? lookup : -1;
                i++;
            }
            if (isLookup) {
                lookup++;
            }
        }
        return new ReferenceStream(block, counted, chain);
    }

    int length() {
        return block.length;
    }
}
