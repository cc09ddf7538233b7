package io.kvconnect.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.config.EngineConfigReader;
import io.kvconnect.core.testing.TestPluginJars;
import io.kvconnect.tools.capacity.TierTrace;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run --capacity-report} and {@code plan}, driven in-process with the test connector {@code
 * alpha} (the bundled connectors are not on this module's test path), which loads nothing: what
 * is checked is the recording, the report's shape and the options' errors, not hit rates.
 */
class CapacityCommandsTest {
    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void runRecordsTheTierTraceAndPrintsTheReportAfterTheUsualOutput() throws IOException {
        Path trace = tmp.resolve("run.trace");
        Path plot = tmp.resolve("curve.png");

        int code = runAlpha(
                "--capacity-report",
                "--tier-blocks",
                "64",
                "--capacity-trace",
                trace.toString(),
                "--capacity-plot",
                plot.toString());

        assertEquals(0, code, err.toString());
        String text = out.toString();
        assertTrue(text.indexOf("Tier capacity report") > text.indexOf("connector hit rate"), text);
        assertTrue(text.contains("tier capacity                       64 blocks"), text);
        assertTrue(text.contains("observed (the connector's loads)    0.0%"), text);
        TierTrace read = TierTrace.read(trace);
        assertTrue(read.lookedUpBlocks() > 0, "the prompts' blocks were looked up");
        assertEquals(0, read.observedHits(), "alpha loads nothing");
        assertTrue(read.accesses().stream().anyMatch(a -> a instanceof TierTrace.Offer), "computed blocks offered");
        assertTrue(Files.size(plot) > 0);

        // plan reads the trace back and reports the same numbers, for another capacity too.
        String runReport = text.substring(text.indexOf("Tier capacity report"), text.indexOf("tier trace written"));
        out.getBuffer().setLength(0);
        assertEquals(0, execute("plan", trace.toString(), "--tier-blocks", "64"), err.toString());
        assertEquals(runReport, out.toString());
        out.getBuffer().setLength(0);
        assertEquals(0, execute("plan", trace.toString()), err.toString());
        assertEquals(runReport, out.toString(), "the trace's own capacity by default");
        out.getBuffer().setLength(0);
        assertEquals(0, execute("plan", trace.toString(), "--tier-blocks", "3"), err.toString());
        assertTrue(out.toString().contains("tier capacity                       3 blocks"), out.toString());
        assertTrue(
                out.toString().contains("at the recorded tier's capacity (64 blocks), not this one"), out.toString());
    }

    @Test
    void withoutTheFlagRunPrintsNoCapacityReport() throws IOException {
        assertEquals(0, runAlpha(), err.toString());

        assertFalse(out.toString().contains("Tier capacity report"), out.toString());
    }

    @Test
    void aConnectorOtherThanOffloadNeedsTheTierSize() throws IOException {
        assertEquals(2, runAlpha("--capacity-report"));

        assertTrue(err.toString().contains("--tier-blocks"), err.toString());
        assertTrue(err.toString().contains("connector 'alpha'"), err.toString());
    }

    @Test
    void aConfigurationWithoutAConnectorHasNoTierToReport() {
        String config = """
                {"model": "tiny", "gpu_blocks": 256, "workers": 1}""";
        try (var o = new PrintWriter(out, true);
                var e = new PrintWriter(err, true)) {
            assertEquals(
                    2,
                    io.kvconnect.core.cli.Main.execute(
                            o,
                            e,
                            List.of(new RunCommand(() -> EngineConfigReader.parse(config, "test default"))),
                            "run",
                            "--capacity-report",
                            "--tier-blocks",
                            "8",
                            "--no-progress"));
        }

        assertTrue(err.toString().contains("needs a connector"), err.toString());
    }

    @Test
    void theCapacityOptionsNeedTheReport() throws IOException {
        assertEquals(2, runAlpha("--capacity-plot", tmp.resolve("x.png").toString()));

        assertTrue(err.toString().contains("--capacity-plot"), err.toString());
        assertTrue(err.toString().contains("needs --capacity-report"), err.toString());
    }

    @Test
    void planRefusesAFileThatIsNotATrace() throws IOException {
        Path notATrace = Files.writeString(tmp.resolve("x.jsonl"), "{}\n");

        assertEquals(2, execute("plan", notATrace.toString(), "--tier-blocks", "8"));

        assertTrue(err.toString().contains("not a tier trace"), err.toString());
    }

    private int runAlpha(String... extra) throws IOException {
        Path plugins = Files.createDirectories(tmp.resolve("with-alpha"));
        Path jar = plugins.resolve("alpha.jar");
        if (!Files.exists(jar)) {
            TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                    .writeTo(jar);
        }
        String config = """
                {"model": "tiny", "gpu_blocks": 256, "workers": 2, "plugins_dir": "%s",
                 "connector": {"name": "alpha", "config": {"capacity": 5}}}""".formatted(plugins.toString().replace("\\", "\\\\"));
        List<String> args = new java.util.ArrayList<>(
                List.of("run", "--no-baseline", "--sessions", "3", "--warmup", "0", "--no-progress"));
        args.addAll(List.of(extra));
        try (var o = new PrintWriter(out, true);
                var e = new PrintWriter(err, true)) {
            return io.kvconnect.core.cli.Main.execute(
                    o,
                    e,
                    List.of(new RunCommand(() -> EngineConfigReader.parse(config, "test default"))),
                    args.toArray(String[]::new));
        }
    }

    private int execute(String... args) {
        try (var o = new PrintWriter(out, true);
                var e = new PrintWriter(err, true)) {
            return Main.execute(o, e, args);
        }
    }
}
