package io.kvconnect.tools.capacity;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * A tier's hit rate against what policies of its capacity, and of other capacities, would have hit
 * on the same {@link TierTrace}: the observed rate (the connector's loads), the optimum (Belady's
 * MIN with bypass), LRU (exact, from stack distances) and ARC (simulated), at the tier's capacity
 * and over a range of capacities (the miss-ratio curves, as hit rates).
 *
 * <p>Every rate is block hits per block lookup beyond the GPU prefix hit. "Prefix" counts a block
 * only if every block before it in its lookup's chain hit too (what a tier can load; the observed
 * rate is of this kind); "block" counts each block on its own (an upper bound of prefix).
 *
 * @param trace the trace
 * @param tierCapacity the tier's capacity in engine blocks
 * @param lookups block lookups
 * @param observed blocks the connector loaded
 * @param distinctBlocks distinct blocks in the trace
 * @param atCapacity MIN, LRU and ARC at {@code tierCapacity}
 * @param curve MIN, LRU and ARC at each capacity of the curve, smallest first
 */
public record CapacityReport(
        TierTrace trace,
        int tierCapacity,
        long lookups,
        long observed,
        int distinctBlocks,
        Point atCapacity,
        List<Point> curve) {
    /** Points of the curve, besides the tier's capacity. */
    static final int CURVE_POINTS = 24;

    /** Copies. */
    public CapacityReport {
        curve = List.copyOf(curve);
    }

    /**
     * The three policies at one capacity.
     *
     * @param capacity blocks
     * @param min Belady's MIN with bypass
     * @param lru LRU
     * @param arc ARC
     */
    public record Point(int capacity, Hits min, Hits lru, Hits arc) {}

    /**
     * Analyses {@code trace} for a tier of {@code tierCapacity} blocks.
     *
     * @throws IllegalArgumentException if the capacity is below 1
     */
    public static CapacityReport of(TierTrace trace, int tierCapacity) {
        if (tierCapacity < 1) {
            throw new IllegalArgumentException("tier capacity must be >= 1 block, got " + tierCapacity);
        }
        ReferenceStream s = ReferenceStream.of(trace);
        StackDistances lru = StackDistances.of(s);
        List<Point> curve = new ArrayList<>();
        for (int c : capacities(Math.max(s.distinctBlocks, 1), tierCapacity)) {
            curve.add(point(s, lru, c));
        }
        Point at = curve.stream()
                .filter(p -> p.capacity() == tierCapacity)
                .findFirst()
                .orElseThrow();
        return new CapacityReport(trace, tierCapacity, s.lookups, trace.observedHits(), s.distinctBlocks, at, curve);
    }

    private static Point point(ReferenceStream s, StackDistances lru, int c) {
        return new Point(c, Belady.simulate(s, c), lru.at(c), ArcSimulator.simulate(s, c));
    }

    /**
     * Capacities of the curve: about {@value #CURVE_POINTS} spaced geometrically from 1 to the
     * distinct blocks (beyond which no policy hits more), and the tier's capacity.
     */
    static List<Integer> capacities(int distinct, int tierCapacity) {
        TreeSet<Integer> out = new TreeSet<>();
        int top = Math.max(distinct, 1);
        for (int i = 0; i <= CURVE_POINTS; i++) {
            out.add((int) Math.max(1, Math.round(Math.pow(top, (double) i / CURVE_POINTS))));
        }
        out.add(tierCapacity);
        return List.copyOf(out);
    }

    /** The observed rate: blocks loaded per block lookup. */
    public double observedRate() {
        return lookups == 0 ? 0 : (double) observed / lookups;
    }

    /** The report as text, in fixed-width lines. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        long lookupChains = trace.accesses().stream()
                .filter(a -> a instanceof TierTrace.Lookup)
                .count();
        sb.append(String.format(
                Locale.ROOT,
                "Tier capacity report: %,d block lookups in %,d requests beyond the GPU prefix hit, "
                        + "%,d distinct blocks; block size %d tokens%n",
                lookups,
                lookupChains,
                distinctBlocks,
                trace.blockSize()));
        sb.append("hit rate = blocks hit / blocks looked up; prefix: a block counts only if every block "
                + "before it in its request hit\n");
        sb.append(String.format(Locale.ROOT, "  tier capacity                       %,d blocks%n", tierCapacity));
        boolean comparable = trace.recordedCapacity() == tierCapacity;
        if (comparable) {
            sb.append(String.format(Locale.ROOT, "  observed (the connector's loads)    %s%n", pct(observedRate())));
        } else {
            sb.append(String.format(
                    Locale.ROOT,
                    "  observed (the connector's loads)    %s at the recorded tier's capacity (%s), not this one%n",
                    pct(observedRate()),
                    trace.recordedCapacity() == 0
                            ? "not known"
                            : String.format(Locale.ROOT, "%,d blocks", trace.recordedCapacity())));
        }
        Point p = atCapacity;
        sb.append(String.format(
                Locale.ROOT,
                "  optimum (Belady MIN, offline)       %s prefix, %s block (no policy exceeds the block rate)%n",
                pct(p.min().prefixHitRate()),
                pct(p.min().blockHitRate())));
        sb.append(String.format(
                Locale.ROOT,
                "  LRU (exact, stack distances)        %s prefix, %s block%n",
                pct(p.lru().prefixHitRate()),
                pct(p.lru().blockHitRate())));
        sb.append(String.format(
                Locale.ROOT,
                "  ARC (simulated)                     %s prefix, %s block%n",
                pct(p.arc().prefixHitRate()),
                pct(p.arc().blockHitRate())));
        if (comparable) {
            sb.append(String.format(
                    Locale.ROOT,
                    "  observed vs optimum                 %+.1f points (vs MIN prefix), %+.1f (vs MIN block)%n",
                    100 * (observedRate() - p.min().prefixHitRate()),
                    100 * (observedRate() - p.min().blockHitRate())));
        }
        sb.append("Hit rate by capacity (prefix; LRU exact, ARC and MIN simulated at each capacity):\n");
        sb.append(String.format(Locale.ROOT, "  %12s %8s %8s %8s %10s%n", "blocks", "MIN", "LRU", "ARC", "MIN block"));
        for (Point q : curve) {
            sb.append(String.format(
                    Locale.ROOT,
                    "  %12s %8s %8s %8s %10s%s%n",
                    String.format(Locale.ROOT, "%,d", q.capacity()),
                    pct(q.min().prefixHitRate()),
                    pct(q.lru().prefixHitRate()),
                    pct(q.arc().prefixHitRate()),
                    pct(q.min().blockHitRate()),
                    q.capacity() == tierCapacity ? "  <- tier" : ""));
        }
        return sb.toString();
    }

    private static String pct(double rate) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * rate);
    }
}
