package io.kvconnect.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's command line, driven in-process through {@link Main#execute(PrintWriter,
 * PrintWriter, String...)}: its own commands' argument and configuration errors, and that the
 * engine's commands are there too.
 */
class MainTest {
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

    @Test
    void soakWithoutAConnectorOrWithABadFaultSpecExitsTwoNamingWhat() {
        assertEquals(2, execute("soak", "--plugins-dir", emptyPlugins.toString(), "--rounds", "1"));
        assertEquals(
                "configuration error: config.connector: is required: the soak runs the configured connector",
                err.toString().strip());
        err.getBuffer().setLength(0);
        assertEquals(2, execute("soak", "--faults", "copy_fial=0.1"));
        assertTrue(err.toString().startsWith("configuration error: --faults.copy_fial: unknown fault"), err.toString());
        err.getBuffer().setLength(0);
        assertEquals(2, execute("soak", "--duration", "soon"));
        assertTrue(
                err.toString().startsWith("configuration error: --duration: 'soon' is not a duration"), err.toString());
    }

    @Test
    void soakOfTheDisaggregationConnectorExitsTwoPointingToTheTwoEngineSoaks() throws IOException {
        Path config = Files.writeString(tmp.resolve("nixl.json"), """
                {"connector": {"name": "nixl-like", "config": {}}}""");
        assertEquals(
                2, execute("soak", "-c", config.toString(), "--plugins-dir", emptyPlugins.toString(), "--rounds", "1"));
        String e = err.toString().strip();
        assertTrue(
                e.startsWith(
                        "configuration error: config.connector.name: 'nixl-like' moves KV between two " + "engines"),
                e);
        assertTrue(e.contains("./kvconnect disagg --faults") && e.contains("DisaggSoakTest"), e);
        assertEquals("", out.toString());
    }

    @Test
    void serveWithoutTheSharedSecretExitsTwoNamingWhereItComesFrom() {
        Assumptions.assumeTrue(
                System.getenv(ServeCommand.SECRET_ENV) == null, "the environment sets " + ServeCommand.SECRET_ENV);
        assertEquals(2, execute("serve", "--role", "producer", "--plugins-dir", emptyPlugins.toString()));
        assertTrue(err.toString().startsWith("configuration error: KVCONNECT_NIXL_SECRET: is not set"), err.toString());
        assertEquals("", out.toString(), "no engine started");
    }

    @Test
    void disaggWithAMalformedFaultSpecExitsTwoBeforeStartingAnEngine() {
        assertEquals(2, execute("disagg", "--plugins-dir", emptyPlugins.toString(), "--faults", "drop"));
        assertEquals(
                "configuration error: --faults: 'drop' is not KEY=VALUE; allowed keys: drop, truncate, delay, "
                        + "delay_ms, kill, seed, only_type",
                err.toString().strip());
        err.getBuffer().setLength(0);
        assertEquals(2, execute("disagg", "--plugins-dir", emptyPlugins.toString(), "--faults", "drop=often"));
        assertEquals(
                "configuration error: --faults.drop: 'often' is not a number",
                err.toString().strip());
    }

    @Test
    void disaggWithAMissingPluginsDirectoryExitsTwoNamingItBeforeStartingAnEngine() {
        Path absent = tmp.resolve("absent");

        assertEquals(2, execute("disagg", "--plugins-dir", absent.toString(), "--sessions", "1"));

        assertEquals(
                "configuration error: --plugins-dir: plugins directory " + absent + " does not exist; name the "
                        + "directory that holds the plugin jars and folders",
                err.toString().strip());
    }

    @Test
    void soakWithAMissingConfiguredPluginsDirectoryExitsTwoNamingTheField() throws IOException {
        Path absent = tmp.resolve("absent");
        Path config = Files.writeString(
                tmp.resolve("engine.json"),
                "{\"plugins_dir\": \"" + absent.toString().replace("\\", "\\\\")
                        + "\", \"connector\": {\"name\": \"offload\"}}");

        assertEquals(2, execute("soak", "-c", config.toString(), "--rounds", "1"));

        assertEquals(
                "configuration error: config.plugins_dir: plugins directory " + absent + " does not exist; name "
                        + "the directory that holds the plugin jars and folders",
                err.toString().strip());
        assertEquals("", out.toString(), "nothing soaked");
    }

    @Test
    void helpListsTheEnginesCommandsAndTheLaunchersInOneListWithoutTheHiddenServe() {
        assertEquals(0, execute("--help"));

        List<String> lines = out.toString().lines().toList();
        assertEquals("Usage: kvconnect [-hV] [COMMAND]", lines.getFirst());
        List<String> commands = lines.subList(lines.indexOf("Commands:") + 1, lines.size()).stream()
                .filter(l -> l.startsWith("  ") && !l.startsWith("   "))
                .map(l -> l.strip().split(" +")[0])
                .toList();
        assertEquals(List.of("run", "plan", "disagg", "soak", "connectors", "help"), commands);
    }

    @Test
    void theEnginesCommandsRunFromHere() {
        assertEquals(0, execute("connectors", "--plugins-dir", emptyPlugins.toString()));
        assertTrue(out.toString().contains("(no connectors found)"), out.toString());
        out.getBuffer().setLength(0);

        assertEquals(0, execute("--version"));
        assertTrue(out.toString().startsWith("kvconnect "), out.toString());
    }

    private int execute(String... args) {
        try (var o = new PrintWriter(out, true);
                var e = new PrintWriter(err, true)) {
            int code = Main.execute(o, e, args);
            o.flush();
            e.flush();
            return code;
        }
    }
}
