package io.kvconnect.bench;

import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Whether the scheduler step grows linearly in running requests: the cost of each added request
 * at the top of the measured range, against the same at the bottom.
 *
 * <p>With step times {@code t(n)} at request counts {@code n1 < n2 < ... < nk} (at least three), the
 * marginal cost per request of the lowest interval is {@code (t(n2) - t(n1)) / (n2 - n1)} and of the
 * highest {@code (t(nk) - t(nk-1)) / (nk - nk-1)}. A step that grows linearly has the two equal up
 * to noise; one that grows faster (a pass over all requests per request, a structure that no
 * longer fits a cache) has the upper one larger. The ratio of the two is checked against {@link
 * #MAX_SLOPE_RATIO}. A fixed cost per step cancels out of both, so it does not hide or fake
 * growth.
 */
final class StepScaling {
    /** The highest interval's cost per added request may be at most this many times the lowest's. */
    static final double MAX_SLOPE_RATIO = 1.5;

    private StepScaling() {}

    /**
     * The report line for one workload and connector, or empty with fewer than three request
     * counts (two points fit any line).
     *
     * @param workload what was measured, for the line
     * @param microsByRequests the step's time in microseconds by number of running requests
     */
    static Optional<String> report(String workload, NavigableMap<Integer, Double> microsByRequests) {
        if (microsByRequests.size() < 3) {
            return Optional.empty();
        }
        Map.Entry<Integer, Double> first = microsByRequests.firstEntry();
        Map.Entry<Integer, Double> second = microsByRequests.higherEntry(first.getKey());
        Map.Entry<Integer, Double> last = microsByRequests.lastEntry();
        Map.Entry<Integer, Double> beforeLast = microsByRequests.lowerEntry(last.getKey());
        double low = nanosPerRequest(first, second);
        double high = nanosPerRequest(beforeLast, last);
        // A lower interval that costs nothing or less (noise at small counts) leaves no ratio:
        // report it and fail, rather than divide by it.
        boolean comparable = low > 0;
        double ratio = comparable ? high / low : Double.NaN;
        boolean pass = comparable && ratio <= MAX_SLOPE_RATIO;
        String counts = microsByRequests.keySet().stream().map(String::valueOf).collect(Collectors.joining("/"));
        String times = microsByRequests.values().stream()
                .map(us -> String.format(Locale.ROOT, "%.2f", us))
                .collect(Collectors.joining("/"));
        return Optional.of(String.format(
                Locale.ROOT,
                "step scaling, %s: %s requests %s us; %.0f ns per added request from %d to %d, %.0f from %d to %d,"
                        + " ratio %s (target <= %.1f) -> %s",
                workload,
                counts,
                times,
                low,
                first.getKey(),
                second.getKey(),
                high,
                beforeLast.getKey(),
                last.getKey(),
                comparable ? String.format(Locale.ROOT, "%.2f", ratio) : "n/a",
                MAX_SLOPE_RATIO,
                pass ? "PASS" : "FAIL"));
    }

    private static double nanosPerRequest(Map.Entry<Integer, Double> from, Map.Entry<Integer, Double> to) {
        return (to.getValue() - from.getValue()) * 1000.0 / (to.getKey() - from.getKey());
    }
}
