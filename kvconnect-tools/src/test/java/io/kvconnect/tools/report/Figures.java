package io.kvconnect.tools.report;

import io.kvconnect.core.engine.CacheHitTimeline;
import io.kvconnect.core.run.RunFigures;
import java.util.List;

/** Run figures for the report's tests, built field by field. */
final class Figures {
    long prefixQueries = 1000;
    long prefixHits = 500;
    long connectorQueries;
    long connectorHits;
    long prefill = 600;
    long computed = 700;
    double[] ttftSeconds = {0.010, 0.020, 0.030};
    double p50 = 0.020;
    double p99 = 0.0298;
    long toHost;
    long fromHost;
    RunFigures.Verification verification = RunFigures.Verification.OK;
    List<CacheHitTimeline.Sample> timeline = List.of(
            new CacheHitTimeline.Sample(1, 400, 100, 300, 0), new CacheHitTimeline.Sample(2, 1000, 500, 500, 0));

    RunFigures build() {
        return new RunFigures(
                1200,
                computed,
                prefill,
                prefixQueries,
                prefixHits,
                connectorQueries,
                connectorHits,
                ttftSeconds,
                p50,
                p99,
                toHost,
                fromHost,
                verification,
                timeline);
    }
}
