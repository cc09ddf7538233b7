package io.kvconnect.tools.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ArcSimulatorTest {
    @Test
    void followsTheAlgorithmOnAHandTracedString() {
        // Capacity 2, traced by hand with the algorithm of Megiddo and Modha (p starts at 0):
        // 1 2      misses, T1 = [1 2]
        // 1        hit, T2 = [1], T1 = [2]
        // 3        miss: 2 to B1, T1 = [3]
        // 2        ghost hit in B1: p = 1, 1 to B2, T2 = [2]
        // 1        ghost hit in B2: p = 0, 3 to B1, T2 = [2 1]
        // 2        hit, T2 = [1 2]
        // 4        miss: 1 to B2, T1 = [4]
        // 3        ghost hit in B1: p = 1, 2 to B2, T2 = [3]; resident: 4 and 3
        int[] string = {1, 2, 1, 3, 2, 1, 2, 4, 3};
        boolean[] expected = {false, false, true, false, false, false, true, false, false};
        ArcSimulator arc = new ArcSimulator(2);
        for (int i = 0; i < string.length; i++) {
            assertEquals(expected[i], arc.request(string[i]), "request " + i + " of block " + string[i]);
            assertTrue(arc.resident() <= 2);
        }
        assertTrue(arc.holds(4) && arc.holds(3));
        assertFalse(arc.holds(1) || arc.holds(2));

        Hits hits = ArcSimulator.simulate(Streams.plain(string), 2);
        assertEquals(2, hits.blockHits());
    }

    @Test
    void keepsAFrequentBlockThroughAScanThatLruLoses() {
        // 1 is used often; a scan of new blocks 10..19 follows; then 1 again.
        int[] string = {1, 1, 1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 1};
        ReferenceStream s = Streams.plain(string);

        assertEquals(3, ArcSimulator.simulate(s, 3).blockHits(), "ARC keeps 1 in T2 through the scan");
        assertEquals(2, StackDistances.of(s).at(3).blockHits(), "LRU evicts it");
    }
}
