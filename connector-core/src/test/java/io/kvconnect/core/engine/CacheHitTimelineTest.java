package io.kvconnect.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The bounded cache-counter timeline: every step until it is full, then evenly thinned, the last step always. */
class CacheHitTimelineTest {
    @Test
    void anEmptyTimelineHasNoSamples() {
        assertEquals(List.of(), new CacheHitTimeline().samples());
    }

    @Test
    void belowCapacityEveryStepIsASampleInOrder() {
        CacheHitTimeline t = new CacheHitTimeline();
        for (int i = 1; i <= 10; i++) {
            t.add(i * 0.5, 100L * i, 40L * i, 60L * i, 30L * i);
        }

        List<CacheHitTimeline.Sample> s = t.samples();

        assertEquals(10, s.size());
        assertEquals(new CacheHitTimeline.Sample(0.5, 100, 40, 60, 30), s.getFirst());
        assertEquals(new CacheHitTimeline.Sample(5.0, 1000, 400, 600, 300), s.getLast());
    }

    @Test
    void aLongRunKeepsAtMostCapacityRowsSpreadEvenlyAndEndsWithTheLastStep() {
        CacheHitTimeline t = new CacheHitTimeline();
        int steps = CacheHitTimeline.CAPACITY * 5 + 3;
        for (int i = 1; i <= steps; i++) {
            t.add(i, i, i / 2, i / 3, i / 4);
        }

        List<CacheHitTimeline.Sample> s = t.samples();

        assertTrue(s.size() <= CacheHitTimeline.CAPACITY + 1, "size " + s.size());
        assertTrue(s.size() > CacheHitTimeline.CAPACITY / 2, "size " + s.size());
        assertEquals(
                new CacheHitTimeline.Sample(steps, steps, steps / 2, steps / 3, steps / 4),
                s.getLast(),
                "the latest step is the run's totals");
        // Kept rows are one stride apart (the stride is 8 after reaching 5 capacities' worth of steps).
        for (int i = 1; i < s.size() - 1; i++) {
            assertEquals(8.0, s.get(i).seconds() - s.get(i - 1).seconds(), 0.0, "row " + i);
        }
        for (int i = 1; i < s.size(); i++) {
            assertTrue(s.get(i).prefixQueries() > s.get(i - 1).prefixQueries(), "in time order");
        }
    }

    @Test
    void theLatestStepIsNotRepeatedWhenItIsAlsoTheLastKeptRow() {
        CacheHitTimeline t = new CacheHitTimeline();
        for (int i = 1; i <= CacheHitTimeline.CAPACITY + 2; i++) {
            t.add(i, i, 0, 0, 0);
        }

        List<CacheHitTimeline.Sample> s = t.samples();

        // After halving, the stride is 2: step 1026, the latest, is also the last kept row.
        assertEquals(CacheHitTimeline.CAPACITY + 2, s.getLast().prefixQueries());
        assertEquals(
                s.size(),
                s.stream().map(CacheHitTimeline.Sample::seconds).distinct().count());
    }
}
