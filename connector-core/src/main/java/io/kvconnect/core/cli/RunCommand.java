package io.kvconnect.core.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.report.ProgressBar;
import io.kvconnect.core.run.EngineFactory;
import io.kvconnect.core.run.RunReport;
import io.kvconnect.core.run.WorkloadDriver;
import io.kvconnect.core.workload.SyntheticChatSpec;
import io.kvconnect.core.workload.SyntheticChatWorkload;
import io.kvconnect.core.workload.TraceReader;
import io.kvconnect.core.workload.Workload;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The main job: runs a multi-turn chat workload (synthetic and seeded, or a JSONL trace) through
 * the engine with the configured connector and prints the end report; optionally runs the same
 * workload without the connector and prints both side by side, with whether the outputs are
 * identical.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the main job on the embedded default configuration or --config FILE.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    EngineOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--trace", paramLabel = "FILE", description = "JSONL workload trace instead of the synthetic one.")
    Path trace;

    @Option(names = "--sessions", paramLabel = "N", description = "Chat sessions of the synthetic workload.")
    Integer sessions;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the synthetic workload (default 42).")
    Long seed;

    @Option(names = "--baseline", description = "Also run without the connector and compare.")
    boolean baseline;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON.")
    Path json;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "4",
            description = "Sessions of an unreported warm-up run of each configuration before the measured runs "
                    + "(default ${DEFAULT-VALUE}, at most as many as the workload has; 0 = none).")
    int warmupSessions;

    @Override
    public Integer call() throws Exception {
        if (warmupSessions < 0) {
            throw new ConfigException("--warmup", warmupSessions + " is not allowed; allowed: 0 or more sessions");
        }
        EngineConfig config = options.config();
        PrintWriter out = spec.commandLine().getOut();
        Workload workload = workload();
        out.printf("kvconnect: model %s (%d layers, %d KV heads, head dim %d, %s), block size %d, %d GPU blocks, "
                        + "%d worker(s), %s scheduling, %s layout, load failure policy %s%n",
                config.model().name(), config.model().numLayers(), config.model().numKvHeads(),
                config.model().headDim(), config.model().dtype(), config.blockSize(), config.gpuBlocks(),
                config.workers(), config.asyncScheduling() ? "async" : "sync",
                config.kvLayout().name().toLowerCase(Locale.ROOT),
                config.loadFailurePolicy().name().toLowerCase(Locale.ROOT));
        out.printf("workload: %s%n", workload.description());
        ConnectorRegistry registry = options.discover(config, out);
        if (config.connector().isEmpty()) {
            out.println("No connector configured (set \"connector\" in the configuration file).");
        }
        if (warmupSessions > 0) {
            // Time is partly wall time (see Engine), so the first run would otherwise pay for the
            // JIT compiler and class loading while the second does not.
            int n = Math.min(warmupSessions, workload.sessions().size());
            Workload warmup = synthetic(n, (seed == null ? SyntheticChatSpec.defaults().seed() : seed) + 1);
            warmUp(config, registry, warmup);
            if (baseline && config.connector().isPresent()) {
                warmUp(config.withoutConnector(), registry, warmup);
            }
        }
        List<RunReport> reports = new ArrayList<>();
        String label = config.connector().map(c -> "connector " + c.name()).orElse("no connector");
        reports.add(runOnce(label, config, registry, workload, out));
        if (baseline && config.connector().isPresent()) {
            reports.add(runOnce("baseline", config.withoutConnector(), registry, workload, out));
        }
        out.println();
        out.print(RunReport.render(reports));
        boolean identical = true;
        if (reports.size() == 2) {
            identical = reports.get(0).sameOutputs(reports.get(1));
            out.println("outputs identical to the baseline: " + (identical ? "yes" : "NO"));
        }
        if (json != null) {
            writeJson(reports, identical);
            out.println("report written to " + json);
        }
        out.flush();
        boolean verified = reports.stream().allMatch(r -> !"FAILED".equals(r.sections().get("KV verification")
                .get("result")));
        return verified && identical ? 0 : 1;
    }

    private RunReport runOnce(String label, EngineConfig config, ConnectorRegistry registry, Workload workload,
                              PrintWriter out) throws InterruptedException {
        long t0 = System.nanoTime();
        Engine engine = EngineFactory.create(config, registry, false);
        config.connector().ifPresent(entry -> {
            var found = registry.require(entry.path() + ".name", entry.name());
            out.printf("Created connector '%s' %s from %s: 1 scheduler side, %d worker side(s).%n", found.name(),
                    found.version(), found.source(), config.workers());
        });
        try {
            ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), label, workload.totalTurns(),
                    !noProgress && System.console() != null, System::nanoTime);
            new WorkloadDriver(engine, workload).run(done -> {
                if (!noProgress) {
                    bar.update(done);
                }
            });
            if (!noProgress) {
                bar.finish();
            }
        } finally {
            // Closed before the report: shutdown returns leaked connector references, which it counts.
            engine.close();
        }
        return RunReport.of(label, engine, (System.nanoTime() - t0) / 1e9);
    }

    private static void warmUp(EngineConfig config, ConnectorRegistry registry, Workload workload)
            throws InterruptedException {
        try (Engine engine = EngineFactory.create(config, registry, false)) {
            new WorkloadDriver(engine, workload).run(done -> { });
        }
    }

    private Workload workload() {
        if (trace != null) {
            return TraceReader.read(trace, 32_000, seed == null ? 42 : seed);
        }
        if (sessions != null && sessions <= 0) {
            throw new ConfigException("--sessions", sessions + " is not allowed; allowed: a positive number");
        }
        SyntheticChatSpec d = SyntheticChatSpec.defaults();
        return synthetic(sessions == null ? d.sessions() : sessions, seed == null ? d.seed() : seed);
    }

    private static Workload synthetic(int numSessions, long seed) {
        SyntheticChatSpec d = SyntheticChatSpec.defaults();
        SyntheticChatSpec spec = new SyntheticChatSpec(numSessions, d.minTurns(),
                d.maxTurns(), d.systemPrompts(), d.minSystemPromptTokens(), d.maxSystemPromptTokens(),
                d.minUserTokens(), d.maxUserTokens(), d.minOutputTokens(), d.maxOutputTokens(), d.sessionsPerSecond(),
                d.meanThinkSeconds(), d.vocabSize(), seed);
        return SyntheticChatWorkload.generate(spec);
    }

    private void writeJson(List<RunReport> reports, boolean identical) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        List<Map<String, Object>> runs = new ArrayList<>();
        for (RunReport r : reports) {
            runs.add(r.toJson());
        }
        doc.put("runs", runs);
        if (reports.size() == 2) {
            doc.put("outputs_identical", identical);
        }
        Files.writeString(json, JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build()
                .writeValueAsString(doc));
    }
}
