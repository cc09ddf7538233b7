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

/**
 * The engine's command-line root and its own command, driven in-process through {@link
 * Main#execute(PrintWriter, PrintWriter, String...)}. The main job ({@code run}) is the launcher's:
 * its tests are in kvconnect-tools.
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

    // ---- connectors -----------------------------------------------------------------------------

    @Test
    void connectorsWithNothingDiscoveredPrintsTheHeaderAndSaysSo() {
        // The test module path carries no connector provider (connector-core depends on the API only).
        assertEquals(
                List.of(),
                ConnectorDiscovery.discover(PluginsDirectory.setBy("--plugins-dir", emptyPlugins), Set.of())
                        .names(),
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
        Path jar = TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("alpha.jar"));

        int code = execute("connectors", "--plugins-dir", plugins.toString());

        assertEquals(0, code, err.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals(2, lines.size(), out.toString());
        assertTrue(lines.get(0).startsWith("NAME"), lines.get(0));
        assertEquals(
                List.of("alpha", "1.0", "plugins_directory", "com.example.alpha", jar.toString()),
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
        Path config = Files.writeString(
                tmp.resolve("engine.json"),
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
        int code = execute("connectors", "--plugins", emptyPlugins.toString());

        assertEquals(2, code);
        assertTrue(err.toString().contains("Unknown options: '--plugins'"), err.toString());
        assertTrue(err.toString().contains("Possible solutions: --plugins-dir"), err.toString());
        assertEquals("", out.toString(), "connectors did not start");
    }

    @Test
    void anUnknownCommandIsAUsageError() {
        int code = execute("start");

        assertEquals(2, code);
        assertTrue(err.toString().contains("'start'"), err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void helpListsTheEnginesOwnCommand() {
        int code = execute("--help");

        assertEquals(0, code);
        assertTrue(out.toString().contains("Usage: kvconnect"), out.toString());
        assertTrue(out.toString().contains("connectors") && out.toString().contains("help"), out.toString());
        assertFalse(out.toString().contains("  run "), "the main job is the launcher's command: " + out);
    }

    @Test
    void withoutACommandTheEnginesRootIsAUsageError() {
        int code = execute();

        assertEquals(2, code);
        assertTrue(err.toString().contains("a command is required; try --help"), err.toString());
        assertEquals("", out.toString());
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
