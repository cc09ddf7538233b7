package io.kvconnect.tools.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CapacityReportTest {
    @TempDir
    Path tmp;

    @Test
    void reportsTheObservedRateAndThePoliciesAtTheTierCapacity() {
        // Offered a b; looked up [a b] (the connector loaded 1), then [a b c] (loaded 2).
        TierTrace trace = new TierTrace(
                16,
                2,
                List.of(
                        new TierTrace.Offer(new long[] {1, 2}),
                        new TierTrace.Lookup(new long[] {1, 2}, 1),
                        new TierTrace.Lookup(new long[] {1, 2, 3}, 2)));

        CapacityReport report = CapacityReport.of(trace, 2);

        assertEquals(5, report.lookups());
        assertEquals(3, report.observed());
        assertEquals(0.6, report.observedRate(), 1e-9);
        assertEquals(4, report.atCapacity().min().prefixHits(), "a b twice; c was never seen");
        assertEquals(4, report.atCapacity().lru().prefixHits());
        assertTrue(report.curve().stream().anyMatch(p -> p.capacity() == 2));
        String text = report.render();
        assertTrue(text.contains("observed (the connector's loads)    60.0%"), text);
        assertTrue(text.contains("optimum (Belady MIN, offline)       80.0% prefix"), text);
        assertTrue(text.contains("<- tier"), text);
        assertTrue(text.contains("observed vs optimum                 -20.0 points"), text);

        String other = CapacityReport.of(trace, 1).render();
        assertTrue(
                other.contains("60.0% at the recorded tier's capacity (2 blocks), not this one"),
                "the observed rate belongs to the recorded capacity: " + other);
        assertTrue(!other.contains("observed vs optimum"), other);
    }

    @Test
    void theCurveRunsFromOneBlockToTheDistinctBlocksAndHasTheTierCapacity() {
        List<Integer> c = CapacityReport.capacities(1000, 77);

        assertEquals(1, c.getFirst());
        assertEquals(1000, c.getLast());
        assertTrue(c.contains(77));
        assertEquals(List.of(1, 5), CapacityReport.capacities(1, 5));
    }

    @Test
    void drawsThePlotAsAPng() throws IOException {
        CapacityReport report = CapacityReport.of(Streams.randomChat(3, 5, 5), 8);
        Path png = tmp.resolve("curve.png");

        CapacityPlot.write(report, png);

        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 4);
        assertEquals(0x89, head[0] & 0xff);
        assertEquals("PNG", new String(head, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
    }
}
