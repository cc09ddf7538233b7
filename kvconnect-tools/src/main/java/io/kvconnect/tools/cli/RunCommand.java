package io.kvconnect.tools.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.cli.EngineOptions;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.EngineConfigReader;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.run.EngineFactory;
import io.kvconnect.core.run.RunFigures;
import io.kvconnect.core.run.RunReport;
import io.kvconnect.core.run.WorkloadDriver;
import io.kvconnect.core.workload.SyntheticChatSpec;
import io.kvconnect.core.workload.SyntheticChatWorkload;
import io.kvconnect.core.workload.TraceReader;
import io.kvconnect.core.workload.Workload;
import io.kvconnect.tools.capacity.CapacityPlot;
import io.kvconnect.tools.capacity.CapacityReport;
import io.kvconnect.tools.capacity.TierTrace;
import io.kvconnect.tools.capacity.TraceRecorder;
import io.kvconnect.tools.report.HtmlReport;
import io.kvconnect.tools.report.RunColumn;
import io.kvconnect.tools.report.RunComparison;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The main job: runs a multi-turn chat workload (synthetic and seeded, or a JSONL trace) through
 * the engine with the configured connector and prints the end report; optionally runs the same
 * workload without the connector and compares the two, with whether the outputs are identical.
 *
 * <p>Without {@code --config} it runs the embedded default of this module ({@value #DEFAULT_RESOURCE}):
 * a bundled connector on a GPU pool too small for the conversations, compared with the same
 * workload without it by default, printed as the short side-by-side of {@link RunComparison} and
 * the line that says what the connector saved. With {@code --config} it prints the engine's full
 * report ({@link RunReport}), of both runs with {@code --baseline}. {@code --html} writes either as
 * a page with charts ({@link HtmlReport}).
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Run the main job: a seeded multi-turn chat workload (or a JSONL trace) through the engine.",
            "",
            "Without --config it shows what a KV connector is for. The embedded default configuration runs the "
                    + "bundled offload connector as a host-memory KV tier beside a GPU pool of 256 blocks per worker, "
                    + "too small to keep the conversations between their turns, then the same workload without a "
                    + "connector, and prints both side by side: GPU prefix and connector hit rates, time to first "
                    + "token p50/p99, tokens computed, KV bytes moved in each direction, whether every output token "
                    + "is identical and the KV verification result; then one line saying what the connector saved. "
                    + "It uses the tiny model shape, so that it runs in seconds; times are modelled, with the compute "
                    + "cost of a 1B model on one GPU. --no-baseline runs only the first, with its full report.",
            "",
            "With --config FILE it runs that configuration and prints its full report; --baseline also runs it "
                    + "without its connector and prints both.",
            ""
        },
        footer = {
            "",
            "Exit status: 0 success, 1 a KV verification mismatch or outputs that differ from the run "
                    + "without the connector, 2 invalid configuration or arguments, 3 a connector failed fatally."
        })
final class RunCommand implements Callable<Integer> {
    /** The embedded default configuration of {@code run}, a resource of this package. */
    static final String DEFAULT_RESOURCE = "run-default.json";

    @Mixin
    EngineOptions options;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--baseline",
            negatable = true,
            description = "Also run without the connector and compare (default: on for the embedded default "
                    + "configuration, off with --config). --no-baseline: only the configured run, with its full "
                    + "report.")
    Boolean baseline;

    @Option(names = "--trace", paramLabel = "FILE", description = "JSONL workload trace instead of the synthetic one.")
    Path trace;

    @Option(names = "--sessions", paramLabel = "N", description = "Chat sessions of the synthetic workload.")
    Integer sessions;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the synthetic workload (default 42).")
    Long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the full reports as JSON.")
    Path json;

    @Option(
            names = {"--html", "--report"},
            paramLabel = "FILE",
            description = "Also write the report as a self-contained HTML page with charts: time to first token "
                    + "with and without the connector, hit rate over time, KV bytes moved per direction.")
    Path html;

    @Option(
            names = "--capacity-report",
            description = "Also record the connector's tier accesses and print its hit rate against the optimum "
                    + "(Belady MIN) and LRU and ARC at the tier's capacity and over a range of capacities "
                    + "(see docs/operations.md, sizing a tier).")
    boolean capacityReport;

    @Option(
            names = "--capacity-plot",
            paramLabel = "FILE",
            description = "With the capacity report: also draw the hit rate by capacity as a PNG chart.")
    Path capacityPlot;

    @Option(
            names = "--capacity-trace",
            paramLabel = "FILE",
            description = "With the capacity report: also write the tier trace, for the plan command.")
    Path capacityTrace;

    @Option(
            names = "--tier-blocks",
            paramLabel = "N",
            description = "The tier's capacity in engine blocks for the capacity report (default: from the offload "
                    + "connector's capacity; required for other connectors).")
    Integer tierBlocks;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Option(
            names = "--warmup",
            paramLabel = "N",
            defaultValue = "4",
            description = "Sessions of an unreported warm-up run of each configuration before the measured runs "
                    + "(default ${DEFAULT-VALUE}, at most as many as the workload has; 0 = none).")
    int warmupSessions;

    private final Supplier<EngineConfig> defaultConfig;

    /** The command with the embedded default configuration; created for picocli by the launcher's root. */
    RunCommand() {
        this(RunCommand::embeddedDefault);
    }

    /** The command with another default configuration, for tests that cannot use the bundled connectors. */
    RunCommand(Supplier<EngineConfig> defaultConfig) {
        this.defaultConfig = defaultConfig;
    }

    /** Reads the embedded default configuration ({@value #DEFAULT_RESOURCE}). */
    static EngineConfig embeddedDefault() {
        try (InputStream in = RunCommand.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("embedded default configuration missing: " + DEFAULT_RESOURCE);
            }
            return EngineConfigReader.parse(
                    new String(in.readAllBytes(), StandardCharsets.UTF_8), "embedded default " + DEFAULT_RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (warmupSessions < 0) {
            throw new ConfigException("--warmup", warmupSessions + " is not allowed; allowed: 0 or more sessions");
        }
        requireWritableParent("--json", json);
        requireWritableParent("--html", html);
        requireWritableParent("--capacity-plot", capacityPlot);
        requireWritableParent("--capacity-trace", capacityTrace);
        if (!capacityReport && (capacityPlot != null || capacityTrace != null || tierBlocks != null)) {
            throw new ConfigException(
                    capacityPlot != null
                            ? "--capacity-plot"
                            : capacityTrace != null ? "--capacity-trace" : "--tier-blocks",
                    "needs --capacity-report");
        }
        boolean embedded = options.configFile() == null;
        EngineConfig config = embedded ? defaultConfig.get() : options.config();
        boolean compare =
                (baseline == null ? embedded : baseline) && config.connector().isPresent();
        int tierCapacity = capacityReport ? TierCapacity.blocks(config, tierBlocks) : 0;
        PrintWriter out = spec.commandLine().getOut();
        Workload workload = workload();
        String modelLine = String.format(
                Locale.ROOT,
                "kvconnect: model %s (%d layers, %d KV heads, head dim %d, %s), "
                        + "block size %d, %d GPU blocks, %d worker(s), %s scheduling, %s layout, load failure policy %s",
                config.model().name(),
                config.model().numLayers(),
                config.model().numKvHeads(),
                config.model().headDim(),
                config.model().dtype(),
                config.blockSize(),
                config.gpuBlocks(),
                config.workers(),
                config.asyncScheduling() ? "async" : "sync",
                config.kvLayout().name().toLowerCase(Locale.ROOT),
                config.loadFailurePolicy().name().toLowerCase(Locale.ROOT));
        String workloadLine = "workload: " + workload.description();
        out.println(modelLine);
        out.println(workloadLine);
        ConnectorRegistry registry = options.discover(config, out);
        String connector = config.connector().map(c -> c.name()).orElse(null);
        if (connector == null) {
            out.println("No connector configured (set \"connector\" in the configuration file).");
        } else if (compare) {
            out.printf(
                    "The workload runs twice: with connector '%s', then without a connector "
                            + "(--no-baseline: only the first).%n",
                    connector);
        }
        if (warmupSessions > 0) {
            // Time is partly wall time (see Engine), so the first run would otherwise pay for the
            // JIT compiler and class loading while the second does not.
            int n = Math.min(warmupSessions, workload.sessions().size());
            Workload warmup =
                    synthetic(n, (seed == null ? SyntheticChatSpec.defaults().seed() : seed) + 1);
            warmUp(config, registry, warmup);
            if (compare) {
                warmUp(config.withoutConnector(), registry, warmup);
            }
        }
        List<Run> runs = new ArrayList<>();
        List<TraceRecorder> recorder = new ArrayList<>(1);
        runs.add(runOnce(
                connector == null ? "no connector" : "connector " + connector,
                config,
                registry,
                workload,
                out,
                capacityReport ? recorder : null));
        if (compare) {
            runs.add(runOnce("baseline", config.withoutConnector(), registry, workload, out, null));
        }
        List<RunReport> reports = runs.stream().map(Run::report).toList();
        boolean identical = runs.size() < 2 || reports.get(0).sameOutputs(reports.get(1));
        List<RunColumn> columns = runs.stream()
                .map(r -> new RunColumn(r.report().label(), r.figures()))
                .toList();
        RunComparison comparison = columns.size() == 2
                ? RunComparison.of(columns.get(0), columns.get(1), identical)
                : RunComparison.of(columns.getFirst());
        Optional<String> saved = comparison.savedLine(connector == null ? "the connector" : connector);
        out.println();
        if (embedded && compare) {
            // The short comparison: what a new user reads first.
            out.print(comparison.table());
            out.println();
            out.println(saved.orElseThrow());
            out.println("(full reports: --no-baseline for this run alone, --json FILE for both; charts: --html FILE)");
        } else {
            out.print(RunReport.render(reports));
            if (runs.size() == 2) {
                out.println("outputs identical to the baseline: " + (identical ? "yes" : "NO"));
                out.println(saved.orElseThrow());
            }
        }
        if (json != null) {
            writeJson(reports, identical);
            out.println("report written to " + json);
        }
        if (html != null) {
            HtmlReport.write(html, List.of(modelLine, workloadLine), comparison, saved);
            out.println("HTML report written to " + html);
        }
        if (capacityReport) {
            writeCapacityReport(recorder.getFirst().trace(tierCapacity), tierCapacity, out);
        }
        out.flush();
        boolean verified = runs.stream().allMatch(r -> r.figures().verification() != RunFigures.Verification.FAILED);
        return verified && identical ? 0 : 1;
    }

    /** A measured run: the engine's full report and its figures. */
    private record Run(RunReport report, RunFigures figures) {}

    /**
     * Runs {@code workload} once; with {@code recorder} not null, the connector's scheduler side is
     * wrapped in a {@link TraceRecorder}, which is added to it.
     */
    private Run runOnce(
            String label,
            EngineConfig config,
            ConnectorRegistry registry,
            Workload workload,
            PrintWriter out,
            List<TraceRecorder> recorder)
            throws InterruptedException {
        long t0 = System.nanoTime();
        Engine engine = recorder == null
                ? EngineFactory.create(config, registry, false)
                : EngineFactory.create(config, registry, false, inner -> {
                    TraceRecorder r = new TraceRecorder(inner, config.blockSize());
                    recorder.add(r);
                    return r;
                });
        config.connector().ifPresent(entry -> {
            var found = registry.require(entry.path() + ".name", entry.name());
            out.printf(
                    "Created connector '%s' %s from %s: 1 scheduler side, %d worker side(s).%n",
                    found.name(), found.version(), found.source(), config.workers());
        });
        try {
            ProgressBar bar = new ProgressBar(
                    spec.commandLine().getErr(),
                    label,
                    workload.totalTurns(),
                    !noProgress && System.console() != null,
                    System::nanoTime);
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
        return new Run(RunReport.of(label, engine, (System.nanoTime() - t0) / 1e9), RunFigures.of(engine));
    }

    /** Prints the capacity report of {@code trace}, and writes its plot and the trace if asked. */
    private void writeCapacityReport(TierTrace trace, int tierCapacity, PrintWriter out) throws IOException {
        CapacityReport report = CapacityReport.of(trace, tierCapacity);
        out.println();
        out.print(report.render());
        if (capacityTrace != null) {
            trace.write(capacityTrace);
            out.println("tier trace written to " + capacityTrace + " (./kvconnect plan " + capacityTrace + ")");
        }
        if (capacityPlot != null) {
            CapacityPlot.write(report, capacityPlot);
            out.println("hit rate by capacity drawn in " + capacityPlot);
        }
    }

    private static void warmUp(EngineConfig config, ConnectorRegistry registry, Workload workload)
            throws InterruptedException {
        try (Engine engine = EngineFactory.create(config, registry, false)) {
            new WorkloadDriver(engine, workload).run(done -> {});
        }
    }

    /** Refuses, before anything runs, an output file whose folder does not exist. */
    private static void requireWritableParent(String option, Path file) {
        if (file == null) {
            return;
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new ConfigException(option, "folder " + parent + " does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new ConfigException(option, file + " is a folder; expected a file name");
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
        SyntheticChatSpec spec = new SyntheticChatSpec(
                numSessions,
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
                seed);
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
        Files.writeString(
                json,
                JsonMapper.builder()
                        .enable(SerializationFeature.INDENT_OUTPUT)
                        .build()
                        .writeValueAsString(doc));
    }
}
