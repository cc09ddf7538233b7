package io.kvconnect.core.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Percentiles by linear interpolation between closest ranks, mean and max. */
class PercentilesTest {

    @Test
    void anEmptyCollectorAnswersNaN() {
        var p = new Percentiles();

        assertEquals(0, p.count());
        assertTrue(Double.isNaN(p.percentile(0)));
        assertTrue(Double.isNaN(p.percentile(50)));
        assertTrue(Double.isNaN(p.percentile(100)));
        assertTrue(Double.isNaN(p.mean()));
        assertTrue(Double.isNaN(p.max()));
    }

    @Test
    void oneSampleIsEveryPercentile() {
        var p = of(7.5);

        assertEquals(7.5, p.percentile(0));
        assertEquals(7.5, p.percentile(37));
        assertEquals(7.5, p.percentile(100));
    }

    @Test
    void knownDataInterpolatesLinearly() {
        // Added out of order: 1..10 shuffled.
        var p = of(7, 3, 10, 1, 9, 2, 8, 4, 6, 5);

        assertEquals(10, p.count());
        assertEquals(1.0, p.percentile(0));
        assertEquals(5.5, p.percentile(50), 1e-12);
        assertEquals(10.0, p.percentile(100));
        assertEquals(9.1, p.percentile(90), 1e-12); // index 8.1
        assertEquals(9.91, p.percentile(99), 1e-12); // index 8.91
        assertEquals(3.25, p.percentile(25), 1e-12); // index 2.25
        assertEquals(5.5, p.mean(), 1e-12);
        assertEquals(10.0, p.max());
    }

    @Test
    void anOddCountHasItsMiddleSampleAsMedian() {
        var p = of(30, 10, 20);

        assertEquals(20.0, p.percentile(50));
        assertEquals(15.0, p.percentile(25));
    }

    @Test
    void addingAfterAQueryKeepsAnswersRight() {
        var p = of(1, 2, 3);
        assertEquals(2.0, p.percentile(50));

        p.add(0.5);
        p.add(100);

        assertEquals(2.0, p.percentile(50));
        assertEquals(0.5, p.percentile(0));
        assertEquals(100.0, p.percentile(100));
        assertEquals(100.0, p.max());
        assertEquals(21.3, p.mean(), 1e-12);
    }

    @Test
    void growsBeyondItsInitialCapacity() {
        var p = new Percentiles();
        for (int i = 1000; i >= 0; i--) {
            p.add(i);
        }

        assertEquals(1001, p.count());
        assertEquals(500.0, p.percentile(50));
        assertEquals(990.0, p.percentile(99), 1e-9);
        assertEquals(1000.0, p.max());
    }

    @Test
    void negativeSamplesAreAllowed() {
        var p = of(-3, -1, -2);

        assertEquals(-1.0, p.max());
        assertEquals(-3.0, p.percentile(0));
    }

    @Test
    void sortedSamplesIsAnAscendingCopyOfEverySample() {
        var p = of(3, 1, 2, 2);

        double[] sorted = p.sortedSamples();
        sorted[0] = 99;

        assertArrayEquals(new double[] {1, 2, 2, 3}, p.sortedSamples(), "a copy: changing it changes nothing");
        assertEquals(0, new Percentiles().sortedSamples().length);
    }

    @Test
    void refusesBadInput() {
        var p = of(1);

        assertThrows(IllegalArgumentException.class, () -> p.percentile(-0.1));
        assertThrows(IllegalArgumentException.class, () -> p.percentile(100.1));
        assertThrows(IllegalArgumentException.class, () -> p.percentile(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> p.add(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> p.add(Double.NEGATIVE_INFINITY));
        assertEquals(1, p.count());
    }

    private static Percentiles of(double... samples) {
        var p = new Percentiles();
        for (double s : samples) {
            p.add(s);
        }
        return p;
    }
}
