package io.kvconnect.core.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The scheduler's cumulative cache counters (prompt tokens looked up, found in the GPU prefix
 * cache, asked of the connector, matched by the connector) sampled over modelled time, so that a
 * report can draw the hit rate over time: the rate between two samples is the difference of their
 * counters.
 *
 * <p>Bounded, and allocation-free once built: the rows are preallocated primitive arrays. When
 * they are full, every other row is dropped and from then on only every second step is kept (then
 * every fourth, and so on), so a run of any length keeps at most {@link #CAPACITY} rows, one
 * stride of steps apart. Dropping rows loses nothing that matters, since the counters are cumulative: a
 * rate over a longer interval is still exact. The latest step is always kept apart, so the last
 * sample is the run's totals.
 *
 * <p>Engine thread only, like {@link EngineMetrics}; read it after the run.
 */
public final class CacheHitTimeline {
    /** The most rows kept; a power of two. */
    static final int CAPACITY = 1024;

    private final double[] seconds = new double[CAPACITY];
    private final long[] prefixQueries = new long[CAPACITY];
    private final long[] prefixHits = new long[CAPACITY];
    private final long[] connectorQueries = new long[CAPACITY];
    private final long[] connectorHits = new long[CAPACITY];
    private int size;
    /** Keep one step in this many. */
    private int stride = 1;

    private int sinceKept;
    private boolean hasLatest;
    /** Whether the latest step is also the last kept row. */
    private boolean latestKept;

    private double latestSeconds;
    private long latestPrefixQueries;
    private long latestPrefixHits;
    private long latestConnectorQueries;
    private long latestConnectorHits;

    CacheHitTimeline() {}

    /**
     * One sample of the cumulative counters.
     *
     * @param seconds modelled time of the step
     * @param prefixQueries prompt tokens looked up in the GPU prefix cache so far
     * @param prefixHits of those, found there
     * @param connectorQueries prompt tokens beyond the GPU hit asked of the connector so far
     * @param connectorHits of those, the connector had
     */
    public record Sample(
            double seconds, long prefixQueries, long prefixHits, long connectorQueries, long connectorHits) {}

    /** Records the counters after a step at modelled time {@code now}; allocates nothing. */
    void add(double now, long pq, long ph, long cq, long ch) {
        hasLatest = true;
        latestKept = false;
        latestSeconds = now;
        latestPrefixQueries = pq;
        latestPrefixHits = ph;
        latestConnectorQueries = cq;
        latestConnectorHits = ch;
        if (++sinceKept < stride) {
            return;
        }
        if (size == CAPACITY) {
            // The rows left are every second one, the last among them: this step is the old stride
            // after it, so not yet due under the new one. Rows stay one stride apart.
            halve();
            return;
        }
        sinceKept = 0;
        seconds[size] = now;
        prefixQueries[size] = pq;
        prefixHits[size] = ph;
        connectorQueries[size] = cq;
        connectorHits[size] = ch;
        size++;
        latestKept = true;
    }

    /** Keeps rows 1, 3, 5, ... (each the later of its pair, the last row among them) and doubles the stride. */
    private void halve() {
        int kept = 0;
        for (int i = 1; i < size; i += 2) {
            seconds[kept] = seconds[i];
            prefixQueries[kept] = prefixQueries[i];
            prefixHits[kept] = prefixHits[i];
            connectorQueries[kept] = connectorQueries[i];
            connectorHits[kept] = connectorHits[i];
            kept++;
        }
        size = kept;
        stride *= 2;
    }

    /**
     * The samples in time order, ending with the latest step's (the run's totals); empty before
     * the first step with work. Allocates: call it for a report, not per step.
     */
    public List<Sample> samples() {
        List<Sample> out = new ArrayList<>(size + 1);
        for (int i = 0; i < size; i++) {
            out.add(new Sample(seconds[i], prefixQueries[i], prefixHits[i], connectorQueries[i], connectorHits[i]));
        }
        if (hasLatest && !latestKept) {
            out.add(new Sample(
                    latestSeconds, latestPrefixQueries, latestPrefixHits, latestConnectorQueries, latestConnectorHits));
        }
        return out;
    }
}
