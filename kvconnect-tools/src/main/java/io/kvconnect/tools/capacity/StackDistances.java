package io.kvconnect.tools.capacity;

/**
 * LRU's exact hit counts at every capacity at once, from Mattson's stack distances, in O(n log n)
 * with a Fenwick tree over event positions (one mark at each block's latest event).
 *
 * <p>LRU here moves a block to the top of its recency stack at every event, counted or not, and
 * inserts it if absent; so at capacity {@code c} the tier holds the top {@code c} of the stack, and
 * a counted event hits iff its stack distance (1 + the distinct blocks used since its block's
 * previous event) is at most {@code c}. It is a stack algorithm: its hits never fall as the
 * capacity grows. A prefix hit at {@code c} needs every block of the chain up to it at distance
 * {@code <= c}, so each counted event contributes to prefix hits from the running maximum of the
 * distances in its chain.
 */
final class StackDistances {
    /** Counted events whose distance is exactly {@code d} (index 0 unused); first uses are not in it. */
    private final long[] blockHistogram;
    /** Counted events whose chain's running maximum distance is exactly {@code d}. */
    private final long[] prefixHistogram;

    private final long lookups;

    private StackDistances(long[] blockHistogram, long[] prefixHistogram, long lookups) {
        this.blockHistogram = blockHistogram;
        this.prefixHistogram = prefixHistogram;
        this.lookups = lookups;
    }

    /** The stack distances of {@code stream}. */
    static StackDistances of(ReferenceStream stream) {
        int n = stream.length();
        int[] distances = distances(stream.block, stream.distinctBlocks);
        long[] blockHist = new long[stream.distinctBlocks + 2];
        long[] prefixHist = new long[stream.distinctBlocks + 2];
        int lastChain = -1;
        int runningMax = 0;
        for (int i = 0; i < n; i++) {
            if (!stream.counted[i]) {
                continue;
            }
            if (stream.chain[i] != lastChain) {
                lastChain = stream.chain[i];
                runningMax = 0;
            }
            int d = distances[i];
            if (d > 0) {
                blockHist[d]++;
            }
            if (runningMax >= 0) {
                runningMax = d > 0 ? Math.max(runningMax, d) : -1; // a first use misses at every capacity
            }
            if (runningMax > 0) {
                prefixHist[runningMax]++;
            }
        }
        return new StackDistances(blockHist, prefixHist, stream.lookups);
    }

    /**
     * The stack distance of every event: 1 + the distinct blocks used since the previous event of
     * the same block, or 0 for a block's first event.
     */
    static int[] distances(int[] block, int distinctBlocks) {
        int n = block.length;
        int[] last = new int[distinctBlocks];
        java.util.Arrays.fill(last, -1);
        long[] tree = new long[n + 1];
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int b = block[i];
            int prev = last[b];
            if (prev >= 0) {
                // Marks after prev are the blocks used since, each once (at its latest event).
                out[i] = (int) (sum(tree, i - 1) - sum(tree, prev)) + 1;
                add(tree, prev, -1);
            }
            add(tree, i, 1);
            last[b] = i;
        }
        return out;
    }

    /** LRU's hits at {@code capacity} blocks. */
    Hits at(long capacity) {
        long blockHits = 0;
        long prefixHits = 0;
        long top = Math.min(capacity, blockHistogram.length - 1);
        for (int d = 1; d <= top; d++) {
            blockHits += blockHistogram[d];
            prefixHits += prefixHistogram[d];
        }
        return new Hits(capacity, lookups, blockHits, prefixHits);
    }

    /** The capacity beyond which LRU hits nothing more (the largest distance seen, at least 1). */
    int saturation() {
        for (int d = blockHistogram.length - 1; d > 0; d--) {
            if (blockHistogram[d] > 0) {
                return d;
            }
        }
        return 1;
    }

    /** Sum of positions 0..i (inclusive); 0 for i < 0. */
    private static long sum(long[] tree, int i) {
        long s = 0;
        for (int x = i + 1; x > 0; x -= x & -x) {
            s += tree[x];
        }
        return s;
    }

    private static void add(long[] tree, int i, long v) {
        for (int x = i + 1; x < tree.length; x += x & -x) {
            tree[x] += v;
        }
    }
}
