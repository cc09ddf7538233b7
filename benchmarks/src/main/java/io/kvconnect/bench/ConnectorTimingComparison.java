package io.kvconnect.bench;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.Pacing;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.run.WorkloadDriver;
import io.kvconnect.core.sched.SchedulerConfig;
import io.kvconnect.core.workload.SyntheticChatSpec;
import io.kvconnect.core.workload.SyntheticChatWorkload;
import io.kvconnect.core.workload.Workload;
import java.util.Locale;
import java.util.Optional;

/**
 * How the engine times a connector's own threads: the same storage tier, whose every load takes
 * {@code readMillis} of wall time, run three ways on the same workload:
 *
 * <ol>
 *   <li>loads inline on the worker thread (synchronous loads): the wait is wall time inside the
 *       step, charged as such;</li>
 *   <li>loads on the tier's own thread (asynchronous loads), pacing {@code off}: a step models
 *       about 6 ms but takes a fraction of a millisecond of wall time, so a read of a few
 *       milliseconds spans many modelled steps and is charged all of them;</li>
 *   <li>the same with pacing {@code loads} (the default): steps during which a request waits for
 *       an asynchronous load last their modelled time in wall time, so the read is charged about
 *       what it takes.</li>
 * </ol>
 *
 * <p>Prints time to first token (modelled) and wall time of each. A report, not a test: the
 * numbers depend on the machine. Run with {@code ./kvconnect bench connector-timing [READ_MS]
 * [SESSIONS]}; {@code docs/benchmarks.md} says what it shows.
 */
public final class ConnectorTimingComparison {
    private static final ModelShape TINY = new ModelShape("tiny", 2, 2, 16, DType.FP16);
    private static final int BLOCK_SIZE = 16;

    private ConnectorTimingComparison() {}

    /** Entry point: {@code [READ_MS] [SESSIONS]} (defaults 5 and 24). */
    public static void main(String[] args) throws Exception {
        long readMillis = args.length > 0 ? Long.parseLong(args[0]) : 5;
        int sessions = args.length > 1 ? Integer.parseInt(args[1]) : 24;
        SyntheticChatSpec d = SyntheticChatSpec.defaults();
        Workload workload = SyntheticChatWorkload.generate(new SyntheticChatSpec(
                sessions,
                d.minTurns(),
                d.maxTurns(),
                d.systemPrompts(),
                d.minSystemPromptTokens(),
                d.maxSystemPromptTokens(),
                d.minUserTokens(),
                d.maxUserTokens(),
                d.minOutputTokens(),
                d.maxOutputTokens(),
                d.sessionsPerSecond(),
                d.meanThinkSeconds(),
                d.vocabSize(),
                d.seed()));
        System.out.printf(
                Locale.ROOT,
                "A tier whose loads take %d ms of wall time; %d chat sessions, tiny model, "
                        + "256 GPU blocks, 1 worker%n",
                readMillis,
                sessions);
        System.out.printf(Locale.ROOT, "%-44s %10s %10s %10s %10s%n", "", "hit tok", "TTFT p50", "TTFT p99", "wall s");
        // Warm the JIT once so that the first measured run does not pay for it.
        run(workload, new SlowTierConnector(false, readMillis, 4096, BLOCK_SIZE), Pacing.OFF, null);
        run(
                workload,
                new SlowTierConnector(false, readMillis, 4096, BLOCK_SIZE),
                Pacing.LOADS,
                "loads inline on the worker thread");
        run(
                workload,
                new SlowTierConnector(true, readMillis, 4096, BLOCK_SIZE),
                Pacing.OFF,
                "loads on its own thread, pacing off");
        run(
                workload,
                new SlowTierConnector(true, readMillis, 4096, BLOCK_SIZE),
                Pacing.LOADS,
                "loads on its own thread, pacing loads");
    }

    private static void run(Workload workload, SlowTierConnector tier, Pacing pacing, String label) throws Exception {
        EngineConfig config = EngineConfig.builder(TINY, BLOCK_SIZE, 256, 1, SchedulerConfig.defaults())
                .eosRate(0.02)
                .pacing(pacing)
                .build();
        EngineSetup setup = new EngineSetup(
                config,
                Optional.of(
                        new EngineSetup.ConnectorSides("slow-tier", tier.schedulerSide(), rank -> tier.workerSide())),
                CopyFaults.NONE,
                false);
        long t0 = System.nanoTime();
        try (Engine engine = new Engine(setup)) {
            new WorkloadDriver(engine, workload).run(done -> {});
            if (engine.metrics().mismatches() > 0) {
                throw new IllegalStateException(
                        "the tier served wrong KV: " + engine.metrics().mismatchesByKind());
            }
            if (label != null) {
                var ttft = engine.metrics().timeToFirstToken();
                System.out.printf(
                        Locale.ROOT,
                        "%-44s %10d %8.1f ms %8.1f ms %10.2f%n",
                        label,
                        engine.scheduler().stats().connectorHits(),
                        ttft.percentile(50) * 1e3,
                        ttft.percentile(99) * 1e3,
                        (System.nanoTime() - t0) / 1e9);
            }
        }
    }
}
