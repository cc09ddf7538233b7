package io.kvconnect.tools.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.core.engine.CacheHitTimeline.Sample;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hit rates per window of modelled time, from cumulative counters. */
class HitRateWindowsTest {
    @Test
    void eachWindowIsTheRateOfThePromptsAdmittedInIt() {
        List<Sample> samples = List.of(
                new Sample(0.5, 100, 0, 100, 0), // window 1: 100 looked up, none found
                new Sample(1.0, 200, 50, 150, 25), // window 1 ends: 200 looked up, 50 GPU, 25 connector
                new Sample(1.5, 200, 50, 150, 25), // window 2: nothing admitted
                new Sample(3.0, 400, 200, 200, 50)); // window 3: 200 more, 150 GPU, 25 connector

        List<HitRateWindows.Window> w = HitRateWindows.of(samples, 3);

        assertEquals(
                List.of(new HitRateWindows.Window(0.5, 25.0, 12.5), new HitRateWindows.Window(2.5, 75.0, 12.5)),
                w,
                "the empty middle window is left out");
        assertEquals(87.5, w.get(1).cachedPercent(), 1e-12);
    }

    @Test
    void noSamplesNoWindowsAndAtLeastOneWindowIsAsked() {
        assertEquals(List.of(), HitRateWindows.of(List.of(), 5));
        assertThrows(IllegalArgumentException.class, () -> HitRateWindows.of(List.of(), 0));
    }
}
