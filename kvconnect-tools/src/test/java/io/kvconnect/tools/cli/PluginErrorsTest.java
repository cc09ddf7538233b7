package io.kvconnect.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.plugin.ConnectorDiscovery;
import io.kvconnect.core.testing.TestPluginJars;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees first when plugins go wrong: a plugins directory that is not there, and a
 * refused plugin, reported once as what it is, with its reason.
 */
class PluginErrorsTest {
    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    // ---- a plugins directory that is not there --------------------------------------------------

    @Test
    void aMissingPluginsDirectoryGivenWithTheOptionExitsTwoNamingTheOptionAndThePath() {
        Path absent = tmp.resolve("absent");

        int code = execute("run", "--plugins-dir", absent.toString(), "--sessions", "1", "--no-progress");

        assertEquals(2, code);
        assertEquals(
                "configuration error: --plugins-dir: plugins directory " + absent + " does not exist; name the "
                        + "directory that holds the plugin jars and folders",
                err.toString().strip());
    }

    @Test
    void aMissingPluginsDirectoryInTheConfigurationExitsTwoNamingTheField() throws IOException {
        Path absent = tmp.resolve("absent");
        Path config = Files.writeString(
                tmp.resolve("engine.json"),
                "{\"plugins_dir\": \"" + absent.toString().replace("\\", "\\\\") + "\"}");

        int code = execute("connectors", "--config", config.toString());

        assertEquals(2, code);
        assertEquals(
                "configuration error: config.plugins_dir: plugins directory " + absent + " does not exist; name "
                        + "the directory that holds the plugin jars and folders",
                err.toString().strip());
        assertEquals("", out.toString(), "nothing is listed from a directory that is not there");
    }

    // ---- the configured connector was refused ---------------------------------------------------

    @Test
    void aConfiguredConnectorProvidedTwiceIsReportedOnceAsRefused() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("plugins"));
        Path one = TestPluginJars.goodModule("com.example.one", "com.example.one", "twin")
                .writeTo(plugins.resolve("one.jar"));
        Path two = TestPluginJars.goodModule("com.example.two", "com.example.two", "twin")
                .writeTo(plugins.resolve("two.jar"));

        int code = runConfigured("twin", plugins);

        assertEquals(2, code);
        assertEquals(
                "configuration error: config.connector.name: connector 'twin' was refused: connector name 'twin' "
                        + "is provided more than once, by plugins-directory " + one + " and by plugins-directory " + two
                        + "; the name is refused until only one of them remains",
                err.toString().strip());
        assertOnce("is provided more than once");
    }

    @Test
    void aConfiguredConnectorWhoseProviderThrowsIsReportedOnceAsRefused() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("plugins"));
        Path boom = new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.boom { requires kvconnect.api; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.boom.Provider; }")
                .source(
                        "com/example/boom/Provider.java",
                        TestPluginJars.provider(
                                "com.example.boom",
                                "Provider",
                                "boom",
                                "if (true) throw new IllegalStateException(\"no licence key\");",
                                "return \"\";"))
                .writeTo(plugins.resolve("boom.jar"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("z.jar"));

        int code = runConfigured("boom", plugins);

        assertEquals(2, code);
        assertEquals(
                "configuration error: config.connector.name: connector 'boom' was not found, and a plugin that "
                        + "may provide it was refused before it could say its name: " + boom + ": provider "
                        + "com.example.boom.Provider failed while loading: java.lang.IllegalStateException: no licence key; "
                        + "available: alpha; searched: the module path, the class path and the plugins directory "
                        + plugins
                        + " (set by --plugins-dir)",
                err.toString().strip());
        assertFalse(err.toString().contains("unknown connector"), err.toString());
        assertOnce("no licence key");
    }

    @Test
    void aConfiguredConnectorReferencingEngineInternalsIsReportedOnceAsRefused() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("plugins"));
        Path sneaky = new TestPluginJars()
                .classPath(TestPluginJars.locationOf(ConnectorDiscovery.class))
                .source(
                        "com/example/sneaky/Provider.java",
                        TestPluginJars.provider(
                                "com.example.sneaky",
                                "Provider",
                                "sneaky",
                                "",
                                "return String.valueOf(io.kvconnect.core.plugin.ConnectorDiscovery.class);"))
                .service("com.example.sneaky.Provider")
                .writeTo(plugins.resolve("sneaky.jar"));

        int code = runConfigured("sneaky", plugins);

        assertEquals(2, code);
        assertEquals(
                "configuration error: config.connector.name: connector 'sneaky' was not found, and a plugin that "
                        + "may provide it was refused before it could say its name: " + sneaky
                        + ": refused: the plugin "
                        + "references engine internals (io.kvconnect.core.*), which plugins may not use; depend on "
                        + "kvconnect.api only. References: com.example.sneaky.Provider -> "
                        + "io.kvconnect.core.plugin.ConnectorDiscovery; available: (none); searched: the module path, the "
                        + "class path and the plugins directory " + plugins + " (set by --plugins-dir)",
                err.toString().strip());
        assertOnce("references engine internals");
    }

    // ---- another plugin was refused -------------------------------------------------------------

    @Test
    void aRefusedPluginThatIsNotTheConfiguredConnectorIsListedOnceAndTheRunGoesOn() throws IOException {
        Path plugins = Files.createDirectory(tmp.resolve("plugins"));
        Path boom = new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.boom { requires kvconnect.api; "
                                + "provides io.kvconnect.api.ConnectorProvider with com.example.boom.Provider; }")
                .source(
                        "com/example/boom/Provider.java",
                        TestPluginJars.provider(
                                "com.example.boom",
                                "Provider",
                                "boom",
                                "if (true) throw new IllegalStateException(\"no licence key\");",
                                "return \"\";"))
                .writeTo(plugins.resolve("boom.jar"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("z.jar"));

        int code = runConfigured("alpha", plugins);

        assertEquals(0, code, err.toString());
        assertTrue(
                out.toString()
                        .contains("Refused plugins:\n  " + boom + ": provider com.example.boom.Provider failed "
                                + "while loading: java.lang.IllegalStateException: no licence key\n"),
                out.toString());
        assertOnce("no licence key");
    }

    /** Runs one short session of the tiny model with connector {@code name} from {@code plugins}. */
    private int runConfigured(String name, Path plugins) throws IOException {
        Path config = Files.writeString(
                tmp.resolve("engine.json"), "{\"model\": \"tiny\", \"connector\": {\"name\": \"" + name + "\"}}");
        return execute(
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
    }

    /** {@code text} is in what the user saw, standard output and error together, exactly once. */
    private void assertOnce(String text) {
        String all = out + "\n" + err;
        int first = all.indexOf(text);
        assertTrue(first >= 0, "'" + text + "' is reported: " + all);
        assertEquals(-1, all.indexOf(text, first + text.length()), "'" + text + "' is reported once: " + all);
    }

    private int execute(String... args) {
        try (var o = new PrintWriter(out, true);
                var e = new PrintWriter(err, true)) {
            return Main.execute(o, e, args);
        }
    }
}
