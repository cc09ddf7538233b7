package io.kvconnect.tools.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BeladyTest {
    /** The textbook reference string (Silberschatz et al.), 20 references of 6 pages. */
    private static final int[] CLASSIC = {7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1};

    @Test
    void theClassicStringWithThreeFramesMissesEightTimes() {
        // Demand paging's optimum misses 9 times; with bypass, 4 (never used again) does not
        // evict 0, so 0 at the 11th reference hits: misses at 7 0 1 2 3 4 1 7.
        Hits hits = Belady.simulate(Streams.plain(CLASSIC), 3);

        assertEquals(20, hits.lookups());
        assertEquals(12, hits.blockHits());
        assertEquals(12, hits.prefixHits(), "one-block chains: prefix and block hits agree");
    }

    @Test
    void everyRepeatHitsOnceAllBlocksFit() {
        assertEquals(20 - 6, Belady.simulate(Streams.plain(CLASSIC), 6).blockHits());
        assertEquals(20 - 6, Belady.simulate(Streams.plain(CLASSIC), 100).blockHits());
    }

    @Test
    void anOfferLetsALaterLookupHit() {
        TierTrace trace = new TierTrace(
                16, 0, List.of(new TierTrace.Offer(new long[] {5, 6}), new TierTrace.Lookup(new long[] {5, 6}, 0)));

        Hits hits = Belady.simulate(ReferenceStream.of(trace), 1);

        assertEquals(1, hits.blockHits(), "one slot keeps one of the two");
        assertEquals(2, Belady.simulate(ReferenceStream.of(trace), 2).prefixHits());
    }

    @Test
    void refusesACapacityBelowOne() {
        assertThrows(IllegalArgumentException.class, () -> Belady.simulate(Streams.plain(1, 2), 0));
    }

    @Test
    void noPolicyBeatsTheOptimumAtAnyCapacity() {
        for (long seed = 1; seed <= 30; seed++) {
            ReferenceStream s = ReferenceStream.of(Streams.randomChat(seed, 8, 10));
            StackDistances lru = StackDistances.of(s);
            for (int c = 1; c <= s.distinctBlocks; c++) {
                Hits min = Belady.simulate(s, c);
                Hits l = lru.at(c);
                Hits arc = ArcSimulator.simulate(s, c);
                String where = "seed " + seed + ", capacity " + c;
                assertTrue(min.blockHits() >= l.blockHits(), where + ": MIN " + min + " vs LRU " + l);
                assertTrue(min.blockHits() >= arc.blockHits(), where + ": MIN " + min + " vs ARC " + arc);
                assertTrue(min.blockHits() >= l.prefixHits() && min.blockHits() >= arc.prefixHits(), where);
            }
        }
    }

    @Test
    void minAndLruCurvesNeverFallAsTheCapacityGrows() {
        for (long seed = 1; seed <= 30; seed++) {
            ReferenceStream s = ReferenceStream.of(Streams.randomChat(seed, 8, 10));
            StackDistances lru = StackDistances.of(s);
            Hits prevMin = Belady.simulate(s, 1);
            Hits prevLru = lru.at(1);
            for (int c = 2; c <= s.distinctBlocks + 1; c++) {
                Hits min = Belady.simulate(s, c);
                Hits l = lru.at(c);
                String where = "seed " + seed + ", capacity " + c;
                assertTrue(min.blockHits() >= prevMin.blockHits(), where);
                assertTrue(l.blockHits() >= prevLru.blockHits(), where);
                assertTrue(l.prefixHits() >= prevLru.prefixHits(), where);
                prevMin = min;
                prevLru = l;
            }
        }
    }
}
