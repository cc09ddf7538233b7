package io.kvconnect.tools.report;

import io.kvconnect.core.engine.CacheHitTimeline;
import java.util.ArrayList;
import java.util.List;

/**
 * The hit rate over time of one run: its modelled time cut into equal windows, and for each window
 * the share of the prompt tokens admitted in it that were not computed, because the GPU prefix
 * cache had them or the connector loaded them. Read from the run's cumulative cache counters
 * ({@link CacheHitTimeline}), so a window's rate is exact whatever samples the timeline kept.
 */
final class HitRateWindows {
    private HitRateWindows() {}

    /**
     * One window.
     *
     * @param seconds the middle of the window, modelled seconds
     * @param gpuPercent prompt tokens found in the GPU prefix cache, percent of those admitted
     * @param connectorPercent prompt tokens the connector had, percent of those admitted
     */
    record Window(double seconds, double gpuPercent, double connectorPercent) {
        /** Prompt tokens not computed: the GPU prefix cache's and the connector's together. */
        double cachedPercent() {
            return gpuPercent + connectorPercent;
        }
    }

    /**
     * The windows of {@code samples}; windows in which no prompt was admitted are left out.
     *
     * @param samples the run's samples in time order ({@link CacheHitTimeline#samples()})
     * @param count how many windows to cut the run's time into, at least 1
     */
    static List<Window> of(List<CacheHitTimeline.Sample> samples, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count is " + count + "; at least 1");
        }
        List<Window> out = new ArrayList<>();
        if (samples.isEmpty()) {
            return out;
        }
        double end = samples.getLast().seconds();
        double width = end / count;
        CacheHitTimeline.Sample before = new CacheHitTimeline.Sample(0, 0, 0, 0, 0);
        int next = 0;
        for (int k = 1; k <= count; k++) {
            // The last window ends at the last sample exactly, whatever the rounding of k * width.
            double bound = k == count ? end : k * width;
            CacheHitTimeline.Sample last = before;
            while (next < samples.size() && samples.get(next).seconds() <= bound) {
                last = samples.get(next++);
            }
            long queries = last.prefixQueries() - before.prefixQueries();
            if (queries > 0) {
                out.add(new Window(
                        bound - width / 2,
                        100.0 * (last.prefixHits() - before.prefixHits()) / queries,
                        100.0 * (last.connectorHits() - before.connectorHits()) / queries));
            }
            before = last;
        }
        return out;
    }
}
