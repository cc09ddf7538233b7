package io.kvconnect.core.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.plugin.ConnectorDiscovery;
import io.kvconnect.core.plugin.PluginsDirectory;
import io.kvconnect.core.testing.TestPluginJars;
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
import picocli.CommandLine;

/** The command line, driven in-process through {@link Main#execute(PrintWriter, PrintWriter, String...)}. */
class MainTest {
    /** The model line of the embedded default configuration (llama-3.2-1b, 2 workers). */
    private static final String DEFAULT_MODEL_LINE = "kvconnect: model llama-3.2-1b (16 layers, 8 KV heads, head dim 64, "
            + "BF16), block size 16, 2048 GPU blocks, 2 worker(s), sync scheduling, per_layer layout, load failure policy fail";

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

    // ---- run ------------------------------------------------------------------------------------

    @Test
    void runWithoutConnectorPrintsTheModelAndSaysNoConnectorIsConfigured() {
        int code = execute("run", "--plugins-dir", emptyPlugins.toString(), "--sessions", "2", "--no-progress");

        assertEquals(0, code, err.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals(DEFAULT_MODEL_LINE, lines.getFirst());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("No connector configured")), out.toString());
        assertEquals("", err.toString());
    }

    @Test
    void runPrintsTheModelOfTheGivenConfiguration() throws IOException {
        Path config = Files.writeString(tmp.resolve("engine.json"), """
                {"model": "tiny", "block_size": 8, "gpu_blocks": 2000, "workers": 1, "async_scheduling": true,
                 "load_failure_policy": "RECOMPUTE"}""");

        int code = execute("run", "-c", config.toString(), "--plugins-dir", emptyPlugins.toString(), "--sessions", "2",
                "--no-progress");

        assertEquals(0, code, err.toString());
        assertEquals("kvconnect: model tiny (2 layers, 2 KV heads, head dim 16, FP16), block size 8, 2000 GPU blocks, "
                + "1 worker(s), async scheduling, per_layer layout, load failure policy recompute", out.toString().lines().findFirst()
                .orElseThrow());
    }

    @Test
    void runWritesTheReportAsJsonWithTheVerificationResult() throws IOException {
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\"model\": \"tiny\", \"gpu_blocks\": 4000}");
        Path json = tmp.resolve("report.json");

        int code = execute("run", "-c", config.toString(), "--plugins-dir", emptyPlugins.toString(), "--sessions", "3",
                "--no-progress", "--json", json.toString());

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
        Path bad = Files.writeString(tmp.resolve("bad.jsonl"), "{\"session\": \"a\", \"user_tokens\": -1, "
                + "\"output_tokens\": 5}\n");

        int ok = execute("run", "-c", config.toString(), "--plugins-dir", emptyPlugins.toString(), "--trace",
                trace.toString(), "--no-progress");
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
        assertEquals("configuration error: config.workers: 0 is out of range; allowed: [1, 64]",
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
        assertEquals("configuration error: config.gpu_blocks: 4096 blocks per worker need 16.0 MiB of KV memory "
                + "(1 worker(s) x 4097 blocks x 4.0 KiB = 16.0 MiB), more than is available for it (kv_memory_limit "
                + "1.0 MiB); allowed: at most 255 blocks per worker with this model, block size and number of "
                + "workers, or a larger kv_memory_limit", err.toString().strip(), "one line, no stack trace");
        assertEquals("", out.toString(), "nothing runs before the configuration is valid");
    }

    @Test
    void aNegativeWarmupExitsTwoBeforeAnythingRuns() {
        int code = execute("run", "--plugins-dir", emptyPlugins.toString(), "--warmup", "-1");

        assertEquals(2, code);
        assertEquals("configuration error: --warmup: -1 is not allowed; allowed: 0 or more sessions",
                err.toString().strip());
        assertEquals("", out.toString());
    }

    @Test
    void runWithAMissingConfigFileExitsTwo() {
        Path missing = tmp.resolve("missing.json");

        int code = execute("run", "--config", missing.toString());

        assertEquals(2, code);
        assertEquals("configuration error: config: file " + missing + " does not exist", err.toString().strip());
    }

    @Test
    void runWithMalformedJsonExitsTwoNamingThePosition() throws IOException {
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\n  \"workers\": 2,\n  \"workers\": 3\n}");

        int code = execute("run", "--config", config.toString());

        assertEquals(2, code);
        assertTrue(err.toString().startsWith("configuration error: config: " + config
                + " is not a valid JSON object at line 3, column "), err.toString());
    }

    @Test
    void runNamingAnUnknownConnectorExitsTwoListingTheAvailableOnes() throws IOException {
        assertEquals(List.of(), ConnectorDiscovery.discover(
                PluginsDirectory.setBy("--plugins-dir", emptyPlugins), Set.of()).names(),
                "precondition: nothing is discovered from the test module path");
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\"connector\": {\"name\": \"nope\"}}");

        int code = execute("run", "--config", config.toString(), "--plugins-dir", emptyPlugins.toString());

        assertEquals(2, code);
        assertEquals("configuration error: config.connector.name: unknown connector 'nope'; available: (none); "
                + "searched: the module path, the class path and the plugins directory "
                + emptyPlugins.toAbsolutePath().normalize() + " (set by --plugins-dir)", err.toString().strip());
    }

    @Test
    void runNamingAnUnknownConnectorListsThePluginsThatExist() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("with-plugin"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha").writeTo(plugins.resolve("alpha.jar"));
        Path config = Files.writeString(tmp.resolve("engine.json"), "{\"connector\": {\"name\": \"beta\"}}");

        int code = execute("run", "--config", config.toString(), "--plugins-dir", plugins.toString());

        assertEquals(2, code);
        assertEquals("configuration error: config.connector.name: unknown connector 'beta'; available: alpha; "
                + "searched: the module path, the class path and the plugins directory "
                + plugins.toAbsolutePath().normalize() + " (set by --plugins-dir)", err.toString().strip());
    }

    @Test
    void runCreatesTheConfiguredConnectorOnEveryWorker() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("with-plugin"));
        Path jar = TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha").writeTo(plugins.resolve("alpha.jar"));
        Path config = Files.writeString(tmp.resolve("engine.json"), """
                {"model": "tiny", "workers": 2, "connector": {"name": "alpha", "config": {"capacity": 5}}}""");

        int code = execute("run", "--config", config.toString(), "--plugins-dir", plugins.toString(), "--sessions", "2",
                "--no-progress");

        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("Created connector 'alpha' 1.0 from ")
                && out.toString().contains(jar.toString())
                && out.toString().contains(": 1 scheduler side, 2 worker side(s)."), out.toString());
        assertFalse(out.toString().contains("No connector configured"), out.toString());
    }

    @Test
    void aConnectorRejectingItsConfigExitsTwoNamingTheFullPath() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("with-plugin"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha").writeTo(plugins.resolve("alpha.jar"));
        Path config = Files.writeString(tmp.resolve("engine.json"), """
                {"connector": {"name": "alpha", "config": {"capacity": 99}}}""");

        int code = execute("run", "--config", config.toString(), "--plugins-dir", plugins.toString());

        assertEquals(2, code);
        assertEquals("configuration error: config.connector.config.capacity: 99 is out of range; allowed: [1, 10]",
                err.toString().strip());
    }

    @Test
    void aConnectorThatExhaustsTheHeapInAHookStopsTheRunWithItsOwnStatusNamingTheHook() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("with-plugin"));
        String provider = TestPluginJars.provider("com.example.oom", "Provider", "oomer", "", "return \"\";")
                .replace("public MatchResult getNumNewMatchedTokens(RequestView r, int local) { return MatchResult.none(); }",
                        "public MatchResult getNumNewMatchedTokens(RequestView r, int local) { "
                                + "throw new OutOfMemoryError(\"Java heap space\"); }");
        new TestPluginJars()
                .source("module-info.java", "module com.example.oom { requires kvconnect.api; "
                        + "provides io.kvconnect.api.ConnectorProvider with com.example.oom.Provider; }")
                .source("com/example/oom/Provider.java", provider)
                .writeTo(plugins.resolve("oom.jar"));
        Path config = Files.writeString(tmp.resolve("engine.json"), """
                {"model": "tiny", "connector": {"name": "oomer"}}""");

        int code = execute("run", "--config", config.toString(), "--plugins-dir", plugins.toString(), "--sessions", "1",
                "--warmup", "0", "--no-progress");

        assertEquals(3, code, err.toString());
        assertTrue(err.toString().contains("fatal: connector 'oomer' failed fatally in getNumNewMatchedTokens on the "
                + "scheduler: java.lang.OutOfMemoryError: Java heap space; the engine stopped"), err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace: " + err);
    }

    @Test
    void noArgumentsRunsTheRunCommand() {
        // With no arguments there is no --plugins-dir: discovery uses the default configuration's
        // "plugins", relative to the working directory (connector-core/ under surefire). Only what
        // does not depend on that folder is asserted: the exit code (run returns 0 even when plugins
        // are refused), the model line printed before discovery, and the no-connector notice.
        int code = execute();

        assertEquals(0, code, err.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals(DEFAULT_MODEL_LINE, lines.getFirst());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("No connector configured")), out.toString());
    }

    // ---- connectors -----------------------------------------------------------------------------

    @Test
    void connectorsWithNothingDiscoveredPrintsTheHeaderAndSaysSo() {
        // The test module path carries no connector provider (connector-core depends on the API only).
        assertEquals(List.of(), ConnectorDiscovery.discover(
                PluginsDirectory.setBy("--plugins-dir", emptyPlugins), Set.of()).names(),
                "precondition: nothing is discovered from the test module path");

        int code = execute("connectors", "--plugins-dir", emptyPlugins.toString());

        assertEquals(0, code, err.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals(2, lines.size(), out.toString());
        assertTrue(lines.get(0).matches("NAME +VERSION +ORIGIN +MODULE +LOCATION"), lines.get(0));
        assertEquals("(no connectors found)", lines.get(1));
    }

    @Test
    void connectorsListsAPluginFromThePluginsDirectory() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("with-plugin"));
        Path jar = TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha").writeTo(plugins.resolve("alpha.jar"));

        int code = execute("connectors", "--plugins-dir", plugins.toString());

        assertEquals(0, code, err.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals(2, lines.size(), out.toString());
        assertTrue(lines.get(0).startsWith("NAME"), lines.get(0));
        assertEquals(List.of("alpha", "1.0", "plugins_directory", "com.example.alpha", jar.toString()),
                List.of(lines.get(1).split(" +")));
    }

    @Test
    void connectorsExitsOneAndListsRefusedPlugins() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("broken"));
        Path folder = Files.createDirectory(plugins.resolve("empty-plugin"));

        int code = execute("connectors", "--plugins-dir", plugins.toString());

        assertEquals(1, code);
        String text = out.toString();
        assertTrue(text.contains("(no connectors found)"), text);
        assertTrue(text.contains("Refused plugins:"), text);
        assertTrue(text.contains(folder.toString()) && text.contains("holds no jar"), text);
    }

    @Test
    void pluginsDirOptionOverridesTheConfiguredPluginsDir() throws IOException {
        Path broken = Files.createDirectory(tmp.resolve("broken"));
        Files.createDirectory(broken.resolve("empty-plugin"));
        Path config = Files.writeString(tmp.resolve("engine.json"),
                "{\"plugins_dir\": \"" + broken.toString().replace("\\", "\\\\") + "\"}");

        assertEquals(1, execute("connectors", "--config", config.toString()), "the configured directory is used");
        out.getBuffer().setLength(0);

        int code = execute("connectors", "--config", config.toString(), "--plugins-dir", emptyPlugins.toString());

        assertEquals(0, code, out.toString());
        assertFalse(out.toString().contains("Refused plugins:"), out.toString());
    }

    // ---- options --------------------------------------------------------------------------------

    @Test
    void versionPrintsKvconnect() {
        int code = execute("--version");

        assertEquals(0, code);
        List<String> lines = out.toString().lines().toList();
        assertTrue(lines.getFirst().matches("kvconnect \\S+"), out.toString());
        assertEquals("Java " + Runtime.version(), lines.get(1));
    }

    @Test
    void anUnknownOptionIsAUsageErrorWithExitCodeTwo() {
        int code = execute("--bogus");

        assertEquals(CommandLine.ExitCode.USAGE, code);
        assertEquals(2, code);
        assertTrue(err.toString().contains("Unknown option: '--bogus'"), err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void anUnknownOptionOfASubcommandIsAUsageErrorToo() {
        int code = execute("run", "--plugins", emptyPlugins.toString());

        assertEquals(2, code);
        assertTrue(err.toString().contains("Unknown options: '--plugins'"), err.toString());
        assertTrue(err.toString().contains("Possible solutions: --plugins-dir"), err.toString());
        assertEquals("", out.toString(), "run did not start");
    }

    @Test
    void anUnknownCommandIsAUsageError() {
        int code = execute("start");

        assertEquals(2, code);
        assertTrue(err.toString().contains("'start'"), err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void helpListsTheCommands() {
        int code = execute("--help");

        assertEquals(0, code);
        assertTrue(out.toString().contains("Usage: kvconnect"), out.toString());
        assertTrue(out.toString().contains("run") && out.toString().contains("connectors"), out.toString());
    }

    private int execute(String... args) {
        try (var o = new PrintWriter(out, true); var e = new PrintWriter(err, true)) {
            int code = Main.execute(o, e, args);
            o.flush();
            e.flush();
            return code;
        }
    }
}
