package io.kvconnect.tools.capacity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class StackDistancesTest {
    @Test
    void distancesCountTheDistinctBlocksSinceThePreviousUse() {
        // a b c a b b d a
        int[] d = StackDistances.distances(new int[] {0, 1, 2, 0, 1, 1, 3, 0}, 4);

        assertArrayEquals(new int[] {0, 0, 0, 3, 3, 1, 0, 3}, d);
    }

    @Test
    void hitsAtACapacityAreTheLookupsWithinThatDistance() {
        StackDistances lru = StackDistances.of(Streams.plain(0, 1, 2, 0, 1, 1, 3, 0));

        assertEquals(1, lru.at(1).blockHits(), "only the repeated b, at distance 1");
        assertEquals(1, lru.at(2).blockHits());
        assertEquals(4, lru.at(3).blockHits());
        assertEquals(4, lru.at(100).blockHits());
        assertEquals(3, lru.saturation());
    }

    @Test
    void prefixHitsStopAtTheFirstBlockBeyondTheCapacity() {
        // x, z, y offered in that order (stack y z x); then the chain [x y] is looked up: x at
        // distance 3, and y, after x moved to the top, at distance 2.
        TierTrace trace = new TierTrace(
                16,
                0,
                List.of(
                        new TierTrace.Offer(new long[] {1}),
                        new TierTrace.Offer(new long[] {3}),
                        new TierTrace.Offer(new long[] {2}),
                        new TierTrace.Lookup(new long[] {1, 2}, 0)));
        StackDistances lru = StackDistances.of(ReferenceStream.of(trace));

        assertEquals(1, lru.at(2).blockHits(), "y is resident at 2");
        assertEquals(0, lru.at(2).prefixHits(), "but it follows x, which missed");
        assertEquals(2, lru.at(3).blockHits());
        assertEquals(2, lru.at(3).prefixHits());
    }

    @Test
    void theCurveEqualsAnLruSimulationAtEveryCapacity() {
        for (long seed = 1; seed <= 20; seed++) {
            ReferenceStream s = ReferenceStream.of(Streams.randomChat(seed, 6, 8));
            StackDistances lru = StackDistances.of(s);
            for (int c = 1; c <= s.distinctBlocks + 1; c++) {
                assertEquals(simulateLru(s, c), lru.at(c), "seed " + seed + ", capacity " + c);
            }
        }
    }

    /** LRU by the book: a recency list, every event moves its block to the top, evicting the bottom. */
    static Hits simulateLru(ReferenceStream s, int capacity) {
        LinkedHashSet<Integer> list = new LinkedHashSet<>();
        long hits = 0;
        long prefix = 0;
        int chain = -1;
        boolean broken = false;
        for (int i = 0; i < s.length(); i++) {
            boolean hit = list.remove(s.block[i]);
            list.add(s.block[i]);
            if (list.size() > capacity) {
                list.remove(list.iterator().next());
            }
            if (s.counted[i]) {
                if (s.chain[i] != chain) {
                    chain = s.chain[i];
                    broken = false;
                }
                hits += hit ? 1 : 0;
                broken |= !hit;
                prefix += broken ? 0 : 1;
            }
        }
        return new Hits(capacity, s.lookups, hits, prefix);
    }
}
