package io.kvconnect.core.run;

import io.kvconnect.core.engine.CacheHitTimeline;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineMetrics;
import io.kvconnect.core.memory.CopyFaults.Direction;
import io.kvconnect.core.sched.SchedulerStats;
import java.util.List;
import java.util.Objects;

/**
 * The figures of one finished run as numbers, for comparing two runs and drawing them: cache hits,
 * tokens computed, time to first token, bytes moved and the verification result, with the samples
 * behind the distributions and the hit rate over time. {@link RunReport} is the same run as a
 * printable report; these are the values it prints, typed.
 *
 * @param promptTokens prompt tokens of all requests
 * @param computedTokens tokens the model computed, prefill and decode
 * @param prefillTokens of those, computed in prefill ({@link EngineMetrics#prefillTokens()})
 * @param prefixQueries prompt tokens looked up in the GPU prefix cache
 * @param prefixHits of those, found there
 * @param connectorQueries prompt tokens beyond the GPU hit asked of the connector
 * @param connectorHits of those, the connector had
 * @param ttftSeconds every request's time to first token, modelled seconds, ascending
 * @param ttftP50Seconds its median (NaN without requests), interpolated as the report's
 * @param ttftP99Seconds its 99th percentile (NaN without requests)
 * @param bytesToHost KV bytes copied from GPU to host memory, all workers
 * @param bytesFromHost KV bytes copied from host to GPU memory, all workers
 * @param verification the KV verification result
 * @param hitTimeline the cache counters over modelled time ({@link CacheHitTimeline})
 */
public record RunFigures(
        long promptTokens,
        long computedTokens,
        long prefillTokens,
        long prefixQueries,
        long prefixHits,
        long connectorQueries,
        long connectorHits,
        double[] ttftSeconds,
        double ttftP50Seconds,
        double ttftP99Seconds,
        long bytesToHost,
        long bytesFromHost,
        Verification verification,
        List<CacheHitTimeline.Sample> hitTimeline) {
    /** The KV verification result of a run. */
    public enum Verification {
        /** Every KV read whose output was used was checked and right. */
        OK,
        /** At least one output was computed from wrong KV. */
        FAILED,
        /** The run did not verify KV reads ({@code verify_kv} false). */
        OFF
    }

    /** Copies the samples. */
    public RunFigures {
        ttftSeconds = ttftSeconds.clone();
        Objects.requireNonNull(verification, "verification");
        hitTimeline = List.copyOf(hitTimeline);
    }

    /** Gathers the figures of a finished run (after {@link Engine#close()}, like {@link RunReport#of}). */
    public static RunFigures of(Engine engine) {
        EngineMetrics m = engine.metrics();
        SchedulerStats s = engine.scheduler().stats();
        var ttft = m.timeToFirstToken();
        Verification verification = !engine.setup().config().verifyKv()
                ? Verification.OFF
                : m.mismatches() == 0 ? Verification.OK : Verification.FAILED;
        return new RunFigures(
                m.promptTokens(),
                m.computedTokens(),
                m.prefillTokens(),
                s.prefixQueries(),
                s.prefixHits(),
                s.connectorQueries(),
                s.connectorHits(),
                ttft.sortedSamples(),
                ttft.percentile(50),
                ttft.percentile(99),
                engine.executor().bytesCopied(Direction.TO_HOST),
                engine.executor().bytesCopied(Direction.FROM_HOST),
                verification,
                m.hitTimeline().samples());
    }

    /** Every request's time to first token, modelled seconds, ascending: a copy. */
    @Override
    public double[] ttftSeconds() {
        return ttftSeconds.clone();
    }
}
