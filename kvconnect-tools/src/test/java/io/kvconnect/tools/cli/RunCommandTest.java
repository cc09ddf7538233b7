package io.kvconnect.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.EngineConfigReader;
import io.kvconnect.core.plugin.ConnectorDiscovery;
import io.kvconnect.core.plugin.PluginsDirectory;
import io.kvconnect.core.testing.TestPluginJars;
import io.kvconnect.tools.report.HtmlReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The main job, driven in-process: through the launcher's root ({@link Main#execute(PrintWriter,
 * PrintWriter, String...)}) with the embedded default or a configuration file, and through a root
 * whose {@code run} has a test default naming a test plugin, since the bundled connectors the real
 * default names are not on this module's test path (the launcher links no plugin; {@code
 * scripts/run-example-check.sh} runs the real default end to end).
 */
class RunCommandTest {
    @TempDir
    Path tmp;

    /** An empty plugins directory, so that results do not depend on the working directory. */
    private Path emptyPlugins;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void createEmptyPluginsDirectory() throws IOException {
        emptyPlugins = Files.createDirectory(tmp.resolve("plugins"));
    }

    // ---- the embedded default --------------------------------------------------------------------

    @Test
    void theEmbeddedDefaultRunsABundledConnectorOnASmallGpuPoolAndTheHelpSaysWhat() {
        EngineConfig config = RunCommand.embeddedDefault();

        String connector = config.connector().orElseThrow().name();
        assertEquals("offload", connector);
        assertEquals(0, execute("run", "--help"));
        String help = out.toString().replaceAll("\\s+", " ");
        assertTrue(
                help.contains("bundled " + connector + " connector as a host-memory KV tier beside a GPU pool of "
                        + config.gpuBlocks() + " blocks per worker"),
                help);
        assertTrue(help.contains("then the same workload without a connector"), help);
        assertTrue(help.contains("--no-baseline runs only the first, with its full report"), help);
        assertTrue(help.contains("It uses the " + config.model().name() + " model shape"), help);
        assertTrue(help.contains("--[no-]baseline") && help.contains("--html, --report=FILE"), help);
    }

    @Test
    void noArgumentsRunsTheEmbeddedDefaultWhichNeedsItsBundledConnector() {
        // Nothing is discovered here (see the class comment), so the default stops at its connector;
        // what it printed first shows that it is the embedded default.
        assertEquals(
                List.of(),
                ConnectorDiscovery.discover(PluginsDirectory.setBy("--plugins-dir", emptyPlugins), Set.of())
                        .names());

        int code = execute();

        assertEquals(2, code, err.toString());
        assertTrue(
                out.toString()
                        .startsWith("kvconnect: model tiny (2 layers, 2 KV heads, head dim 16, FP16), block "
                                + "size 16, 256 GPU blocks, 2 worker(s), sync scheduling"),
                out.toString());
        assertTrue(err.toString().contains("unknown connector 'offload'"), err.toString());
    }

    @Test
    void theDefaultComparesTheRunWithItsConnectorAndWithoutItSideBySide() throws IOException {
        Path plugins = alphaPlugin();

        int code =
                executeWithDefault(alphaDefault(plugins), "run", "--sessions", "2", "--warmup", "0", "--no-progress");

        assertEquals(0, code, err.toString());
        String text = out.toString();
        List<String> lines = text.lines().toList();
        assertTrue(
                lines.contains("The workload runs twice: with connector 'alpha', then without a connector "
                        + "(--no-baseline: only the first)."),
                text);
        assertTrue(lines.stream().anyMatch(l -> l.matches(" +connector alpha +baseline")), text);
        for (String row : List.of(
                "GPU prefix hit rate",
                "connector hit rate",
                "TTFT p50 [ms]",
                "TTFT p99 [ms]",
                "prefill tokens computed",
                "tokens computed (all)",
                "GPU->host bytes",
                "host->GPU bytes")) {
            assertTrue(
                    lines.stream().anyMatch(l -> l.startsWith(row + " ") && l.split(" {2,}").length == 3),
                    "a value per run in row " + row + ":\n" + text);
        }
        assertTrue(lines.stream().anyMatch(l -> l.matches("outputs identical +yes +")), text);
        assertTrue(lines.stream().anyMatch(l -> l.matches("KV verification +OK +OK")), text);
        // The test connector loads nothing, so it saves nothing; the line says so.
        assertTrue(
                lines.stream()
                        .anyMatch(l -> l.startsWith("alpha saved no prefill tokens (")
                                && l.endsWith("; outputs identical; KV verified")),
                text);
        assertFalse(text.contains("verified block reads"), "the short comparison, not the full reports: " + text);
    }

    @Test
    void noBaselineRunsOnlyTheConfiguredRunAndPrintsItsFullReport() throws IOException {
        Path plugins = alphaPlugin();

        int code = executeWithDefault(
                alphaDefault(plugins), "run", "--no-baseline", "--sessions", "2", "--warmup", "0", "--no-progress");

        assertEquals(0, code, err.toString());
        String text = out.toString();
        assertTrue(text.contains("Created connector 'alpha' 1.0"), text);
        assertTrue(text.lines().anyMatch(l -> l.matches(" +connector alpha")), "one column: " + text);
        assertTrue(text.contains("verified block reads"), "the full report: " + text);
        assertFalse(text.contains("baseline ") || text.contains("identical") || text.contains("runs twice"), text);
    }

    @Test
    void withAConfigFileOnlyBaselineAddsTheRunWithoutTheConnector() throws IOException {
        Path plugins = alphaPlugin();
        Path config = Files.writeString(tmp.resolve("engine.json"), alphaDefault(plugins));

        assertEquals(
                0,
                execute("run", "-c", config.toString(), "--sessions", "2", "--warmup", "0", "--no-progress"),
                err.toString());
        assertTrue(out.toString().lines().anyMatch(l -> l.matches(" +connector alpha")), out.toString());
        assertFalse(out.toString().contains("identical"), out.toString());
        out.getBuffer().setLength(0);

        assertEquals(
                0,
                execute(
                        "run",
                        "-c",
                        config.toString(),
                        "--baseline",
                        "--sessions",
                        "2",
                        "--warmup",
                        "0",
                        "--no-progress"),
                err.toString());
        String text = out.toString();
        assertTrue(text.lines().anyMatch(l -> l.matches(" +connector alpha +baseline")), text);
        assertTrue(text.contains("verified block reads"), "the full reports, as without the default: " + text);
        assertTrue(text.contains("outputs identical to the baseline: yes"), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("alpha saved no prefill tokens")), text);
    }

    @Test
    void htmlWritesThePageWithItsThreeChartsAndSaysWhere() throws IOException {
        Path plugins = alphaPlugin();
        Path page = tmp.resolve("report.html");

        int code = executeWithDefault(
                alphaDefault(plugins),
                "run",
                "--sessions",
                "2",
                "--warmup",
                "0",
                "--no-progress",
                "--html",
                page.toString());

        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("HTML report written to " + page), out.toString());
        String html = Files.readString(page);
        for (String id : HtmlReport.CHART_IDS) {
            assertTrue(html.contains("<figure id=\"" + id + "\">\n<img"), id);
        }
        assertTrue(html.contains("connector alpha") && html.contains("baseline"), "both runs are shown");
    }

    @Test
    void reportIsAnotherNameOfHtmlAndAMissingFolderIsRefusedBeforeAnythingRuns() {
        Path page = tmp.resolve("no-such-folder").resolve("report.html");

        int code = execute("run", "--report", page.toString(), "--plugins-dir", emptyPlugins.toString());

        assertEquals(2, code);
        assertEquals(
                "configuration error: --html: folder " + page.getParent() + " does not exist",
                err.toString().strip());
        assertEquals("", out.toString());
    }

    @Test
    void runWithoutAConnectorSaysNoneIsConfiguredAndPrintsItsReport() throws IOException {
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\"model\": \"tiny\", \"gpu_blocks\": 2000}");

        int code = execute(
                "run",
                "-c",
                config.toString(),
                "--plugins-dir",
                emptyPlugins.toString(),
                "--sessions",
                "2",
                "--no-progress",
                "--baseline");

        assertEquals(0, code, err.toString());
        List<String> lines = out.toString().lines().toList();
        assertTrue(
                lines.contains("No connector configured (set \"connector\" in the configuration file)."),
                out.toString());
        assertTrue(lines.stream().anyMatch(l -> l.matches(" +no connector")), "no run to compare: " + out);
        assertEquals("", err.toString());
    }

    // ---- from the engine's own run, unchanged -----------------------------------------------------

    @Test
    void runPrintsTheModelOfTheGivenConfiguration() throws IOException {
        Path config = Files.writeString(tmp.resolve("engine.json"), """
                {"model": "tiny", "block_size": 8, "gpu_blocks": 2000, "workers": 1, "async_scheduling": true,
                 "load_failure_policy": "RECOMPUTE"}""");

        int code = execute(
                "run",
                "-c",
                config.toString(),
                "--plugins-dir",
                emptyPlugins.toString(),
                "--sessions",
                "2",
                "--no-progress");

        assertEquals(0, code, err.toString());
        assertEquals(
                "kvconnect: model tiny (2 layers, 2 KV heads, head dim 16, FP16), block size 8, 2000 GPU blocks, "
                        + "1 worker(s), async scheduling, per_layer layout, load failure policy recompute",
                out.toString().lines().findFirst().orElseThrow());
    }

    @Test
    void runWritesTheReportAsJsonWithTheVerificationResult() throws IOException {
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\"model\": \"tiny\", \"gpu_blocks\": 4000}");
        Path json = tmp.resolve("report.json");

        int code = execute(
                "run",
                "-c",
                config.toString(),
                "--plugins-dir",
                emptyPlugins.toString(),
                "--sessions",
                "3",
                "--no-progress",
                "--json",
                json.toString());

        assertEquals(0, code, err.toString());
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        var run = tree.get("runs").get(0);
        assertEquals("no connector", run.get("label").asText());
        assertEquals("OK", run.get("KV verification").get("result").asText());
        assertEquals(0, run.get("KV verification").get("mismatches").asLong());
        assertTrue(run.get("requests").get("total").asLong() >= 6, run.toString());
        assertTrue(out.toString().contains("TTFT p50 [ms]"), out.toString());
    }

    @Test
    void runReadsATraceAndRefusesABadOneNamingTheLine() throws IOException {
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\"model\": \"tiny\", \"gpu_blocks\": 4000}");
        Path trace = Files.writeString(tmp.resolve("t.jsonl"), """
                {"session": "a", "user_tokens": 20, "output_tokens": 5}
                {"session": "a", "user_tokens": 10, "output_tokens": 4, "think_s": 1}
                """);
        Path bad = Files.writeString(
                tmp.resolve("bad.jsonl"), "{\"session\": \"a\", \"user_tokens\": -1, " + "\"output_tokens\": 5}\n");

        int ok = execute(
                "run",
                "-c",
                config.toString(),
                "--plugins-dir",
                emptyPlugins.toString(),
                "--trace",
                trace.toString(),
                "--no-progress");
        assertEquals(0, ok, err.toString());
        assertTrue(out.toString().contains("total                                            2"), out.toString());

        int refused = execute("run", "-c", config.toString(), "--trace", bad.toString());
        assertEquals(2, refused);
        assertTrue(err.toString().contains(bad + ":1:33: user_tokens: out of range"), err.toString());
    }

    @Test
    void runWithAnInvalidValueExitsTwoNamingTheField() throws IOException {
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\"workers\": 0}");

        int code = execute("run", "--config", config.toString(), "--plugins-dir", emptyPlugins.toString());

        assertEquals(2, code);
        assertTrue(err.toString().startsWith("configuration error: "), err.toString());
        assertEquals(
                "configuration error: config.workers: 0 is out of range; allowed: [1, 64]",
                err.toString().strip());
        assertEquals("", out.toString(), "nothing runs before the configuration is valid");
    }

    @Test
    void aKvCacheBeyondTheMemoryLimitExitsTwoNamingGpuBlocksBeforeAnythingIsAllocated() throws IOException {
        // A small limit, so that the test never depends on (or tries) the machine's memory.
        Path config = Files.writeString(tmp.resolve("engine.json"), """
                {"model": "tiny", "gpu_blocks": 4096, "kv_memory_limit": "1MiB"}""");

        int code = execute("run", "--config", config.toString(), "--plugins-dir", emptyPlugins.toString());

        assertEquals(2, code);
        assertEquals(
                "configuration error: config.gpu_blocks: 4096 blocks per worker need 16.0 MiB of KV memory "
                        + "(1 worker(s) x 4097 blocks x 4.0 KiB = 16.0 MiB), more than is available for it (kv_memory_limit "
                        + "1.0 MiB); allowed: at most 255 blocks per worker with this model, block size and number of "
                        + "workers, or a larger kv_memory_limit",
                err.toString().strip(),
                "one line, no stack trace");
        assertEquals("", out.toString(), "nothing runs before the configuration is valid");
    }

    @Test
    void aNegativeWarmupExitsTwoBeforeAnythingRuns() {
        int code = execute("run", "--plugins-dir", emptyPlugins.toString(), "--warmup", "-1");

        assertEquals(2, code);
        assertEquals(
                "configuration error: --warmup: -1 is not allowed; allowed: 0 or more sessions",
                err.toString().strip());
        assertEquals("", out.toString());
    }

    @Test
    void runWithAMissingConfigFileExitsTwo() {
        Path missing = tmp.resolve("missing.json");

        int code = execute("run", "--config", missing.toString());

        assertEquals(2, code);
        assertEquals(
                "configuration error: config: file " + missing + " does not exist",
                err.toString().strip());
    }

    @Test
    void runWithMalformedJsonExitsTwoNamingThePosition() throws IOException {
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\n  \"workers\": 2,\n  \"workers\": 3\n}");

        int code = execute("run", "--config", config.toString());

        assertEquals(2, code);
        assertTrue(
                err.toString()
                        .startsWith("configuration error: config: " + config
                                + " is not a valid JSON object at line 3, column "),
                err.toString());
    }

    @Test
    void runNamingAnUnknownConnectorExitsTwoListingTheAvailableOnes() throws IOException {
        assertEquals(
                List.of(),
                ConnectorDiscovery.discover(PluginsDirectory.setBy("--plugins-dir", emptyPlugins), Set.of())
                        .names(),
                "precondition: nothing is discovered from the test module path");
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\"connector\": {\"name\": \"nope\"}}");

        int code = execute("run", "--config", config.toString(), "--plugins-dir", emptyPlugins.toString());

        assertEquals(2, code);
        assertEquals(
                "configuration error: config.connector.name: unknown connector 'nope'; available: (none); "
                        + "searched: the module path, the class path and the plugins directory "
                        + emptyPlugins.toAbsolutePath().normalize() + " (set by --plugins-dir)",
                err.toString().strip());
    }

    @Test
    void runNamingAnUnknownConnectorListsThePluginsThatExist() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("with-plugin"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("alpha.jar"));
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\"connector\": {\"name\": \"beta\"}}");

        int code = execute("run", "--config", config.toString(), "--plugins-dir", plugins.toString());

        assertEquals(2, code);
        assertEquals(
                "configuration error: config.connector.name: unknown connector 'beta'; available: alpha; "
                        + "searched: the module path, the class path and the plugins directory "
                        + plugins.toAbsolutePath().normalize() + " (set by --plugins-dir)",
                err.toString().strip());
    }

    @Test
    void runCreatesTheConfiguredConnectorOnEveryWorker() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("with-plugin"));
        Path jar = TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("alpha.jar"));
        Path config = Files.writeString(tmp.resolve("engine.json"), """
                {"model": "tiny", "workers": 2, "connector": {"name": "alpha", "config": {"capacity": 5}}}""");

        int code = execute(
                "run",
                "--config",
                config.toString(),
                "--plugins-dir",
                plugins.toString(),
                "--sessions",
                "2",
                "--no-progress");

        assertEquals(0, code, err.toString());
        assertTrue(
                out.toString().contains("Created connector 'alpha' 1.0 from ")
                        && out.toString().contains(jar.toString())
                        && out.toString().contains(": 1 scheduler side, 2 worker side(s)."),
                out.toString());
        assertFalse(out.toString().contains("No connector configured"), out.toString());
    }

    @Test
    void aConnectorRejectingItsConfigExitsTwoNamingTheFullPath() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("with-plugin"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("alpha.jar"));
        Path config = Files.writeString(tmp.resolve("engine.json"), """
                {"connector": {"name": "alpha", "config": {"capacity": 99}}}""");

        int code = execute("run", "--config", config.toString(), "--plugins-dir", plugins.toString());

        assertEquals(2, code);
        assertEquals(
                "configuration error: config.connector.config.capacity: 99 is out of range; allowed: [1, 10]",
                err.toString().strip());
    }

    @Test
    void aConnectorThatExhaustsTheHeapInAHookStopsTheRunWithItsOwnStatusNamingTheHook() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("with-plugin"));
        String provider = TestPluginJars.provider("com.example.oom", "Provider", "oomer", "", "return \"\";")
                .replace(
                        "public MatchResult getNumNewMatchedTokens(RequestView r, int local) { return MatchResult.none(); }",
                        "public MatchResult getNumNewMatchedTokens(RequestView r, int local) { "
                                + "throw new OutOfMemoryError(\"Java heap space\"); }");
        new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.oom { requires kvconnect.api; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.oom.Provider; }")
                .source("com/example/oom/Provider.java", provider)
                .writeTo(plugins.resolve("oom.jar"));
        Path config = Files.writeString(tmp.resolve("engine.json"), """
                {"model": "tiny", "connector": {"name": "oomer"}}""");

        int code = execute(
                "run",
                "--config",
                config.toString(),
                "--plugins-dir",
                plugins.toString(),
                "--sessions",
                "1",
                "--warmup",
                "0",
                "--no-progress");

        assertEquals(3, code, err.toString());
        assertTrue(
                err.toString()
                        .contains("fatal: connector 'oomer' failed fatally in getNumNewMatchedTokens on the "
                                + "scheduler: java.lang.OutOfMemoryError: Java heap space; the engine stopped"),
                err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace: " + err);
    }

    /** A plugins directory holding the test connector {@code alpha}. */
    private Path alphaPlugin() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("with-alpha"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("alpha.jar"));
        return plugins;
    }

    /** A default configuration like the embedded one, with the test connector {@code alpha} from {@code plugins}. */
    private static String alphaDefault(Path plugins) {
        return """
                {"model": "tiny", "gpu_blocks": 256, "workers": 2, "plugins_dir": "%s",
                 "connector": {"name": "alpha", "config": {"capacity": 5}}}""".formatted(plugins.toString().replace("\\", "\\\\"));
    }

    /** Runs the launcher's command line. */
    private int execute(String... args) {
        try (var o = new PrintWriter(out, true);
                var e = new PrintWriter(err, true)) {
            int code = Main.execute(o, e, args);
            o.flush();
            e.flush();
            return code;
        }
    }

    /** Runs a root whose {@code run} has {@code defaultConfig} as its default configuration. */
    private int executeWithDefault(String defaultConfig, String... args) {
        try (var o = new PrintWriter(out, true);
                var e = new PrintWriter(err, true)) {
            int code = io.kvconnect.core.cli.Main.execute(
                    o, e, List.of(new RunCommand(() -> EngineConfigReader.parse(defaultConfig, "test default"))), args);
            o.flush();
            e.flush();
            return code;
        }
    }
}
