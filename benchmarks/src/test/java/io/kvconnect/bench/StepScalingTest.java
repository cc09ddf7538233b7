package io.kvconnect.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class StepScalingTest {
    private static String report(Map<Integer, Double> points) {
        return StepScaling.report("noop", new TreeMap<>(points)).orElseThrow();
    }

    @Test
    void aStepWithAFixedCostAndTheSameCostPerRequestPasses() {
        // 1 us per step plus 50 ns per request.
        String line = report(Map.of(32, 2.6, 128, 7.4, 256, 13.8));
        assertTrue(line.endsWith("-> PASS"), line);
        assertTrue(line.contains("50 ns per added request from 32 to 128, 50 from 128 to 256"), line);
        assertTrue(line.contains("ratio 1.00"), line);
    }

    @Test
    void aStepThatGrowsWithTheSquareOfTheRequestsFails() {
        // 1 ns per request squared: the cost of an added request grows with the count.
        String line = report(Map.of(32, 1.024, 128, 16.384, 256, 65.536));
        assertTrue(line.endsWith("-> FAIL"), line);
        assertTrue(line.contains("160 ns per added request from 32 to 128, 384 from 128 to 256"), line);
    }

    @Test
    void onlyTheLowestAndHighestIntervalsAreCompared() {
        // A bump in the middle interval does not count; the two ends cost 40 and 50 ns per request.
        String line = report(Map.of(8, 1.0, 16, 1.32, 64, 5.0, 128, 6.0, 256, 12.4));
        assertTrue(line.contains("40 ns per added request from 8 to 16, 50 from 128 to 256"), line);
        assertTrue(line.contains("ratio 1.25"), line);
        assertTrue(line.endsWith("-> PASS"), line);
    }

    @Test
    void aLowerIntervalThatCostsNothingLeavesNoRatioAndFails() {
        String line = report(Map.of(32, 3.0, 128, 2.9, 256, 9.0));
        assertTrue(line.contains("ratio n/a"), line);
        assertTrue(line.endsWith("-> FAIL"), line);
    }

    @Test
    void fewerThanThreeCountsGiveNoVerdict() {
        assertEquals(
                java.util.Optional.empty(), StepScaling.report("noop", new TreeMap<>(Map.of(128, 7.0, 256, 14.0))));
    }
}
