package io.kvconnect.core.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.testing.TestPluginJars;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugins directory that was set must exist; the default may be absent; an unknown connector's
 * error names every place searched.
 */
class PluginsDirectorySettingTest {
    @TempDir
    Path tmp;

    @Test
    void aMissingDirectorySetByTheOptionIsAnErrorNamingTheOptionAndTheAbsolutePath() {
        Path absent = tmp.resolve("absent");

        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConnectorDiscovery.discover(PluginsDirectory.setBy("--plugins-dir", absent), Set.of()));

        assertEquals("--plugins-dir", e.path());
        assertEquals(
                "--plugins-dir: plugins directory " + absent.toAbsolutePath().normalize() + " does not exist; "
                        + "name the directory that holds the plugin jars and folders",
                e.getMessage());
    }

    @Test
    void aMissingDirectorySetByTheConfigurationIsAnErrorNamingTheField() {
        Path absent = tmp.resolve("absent");

        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConnectorDiscovery.discover(PluginsDirectory.setBy("config.plugins_dir", absent), Set.of()));

        assertEquals("config.plugins_dir", e.path());
        assertTrue(e.getMessage().contains(absent.toAbsolutePath().normalize() + " does not exist"), e.getMessage());
    }

    @Test
    void aRelativeDirectoryIsNamedByItsAbsolutePath() {
        Path relative = Path.of("no-such-plugins-directory");

        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConnectorDiscovery.discover(PluginsDirectory.setBy("--plugins-dir", relative), Set.of()));

        assertTrue(
                e.getMessage()
                        .contains(
                                "plugins directory " + relative.toAbsolutePath().normalize() + " does "),
                e.getMessage());
    }

    @Test
    void aFileSetAsTheDirectoryIsAnError() throws Exception {
        Path file = Files.writeString(tmp.resolve("plugins.txt"), "not a directory");

        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConnectorDiscovery.discover(PluginsDirectory.setBy("--plugins-dir", file), Set.of()));

        assertEquals(
                "--plugins-dir: plugins directory " + file.toAbsolutePath().normalize() + " is not a directory; "
                        + "name the directory that holds the plugin jars and folders",
                e.getMessage());
    }

    @Test
    void anAbsentDefaultDirectoryHoldsNoPluginsAndTheUnknownConnectorErrorSaysItIsNotThere() {
        Path absent = tmp.resolve("plugins");
        var byDefault = new PluginsDirectory(absent, Optional.empty());

        ConnectorRegistry registry = ConnectorDiscovery.discover(byDefault, Set.of());

        assertEquals(java.util.List.of(), registry.problems());
        ConfigException e =
                assertThrows(ConfigException.class, () -> registry.require("config.connector.name", "hello"));
        assertEquals(
                "config.connector.name: unknown connector 'hello'; available: (none); searched: the module path, "
                        + "the class path and the default plugins directory "
                        + absent.toAbsolutePath().normalize()
                        + ", which does not exist (plugins_dir in the configuration or --plugins-dir names another)",
                e.getMessage());
    }

    @Test
    void anUnknownConnectorErrorNamesEveryPlaceSearchedAndTheAvailableConnectors() throws Exception {
        Path plugins = Files.createDirectory(tmp.resolve("plugins"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("a.jar"));
        ConnectorRegistry registry =
                ConnectorDiscovery.discover(PluginsDirectory.setBy("config.plugins_dir", plugins), Set.of());

        ConfigException e =
                assertThrows(ConfigException.class, () -> registry.require("config.connector.name", "beta"));

        assertEquals(
                "config.connector.name: unknown connector 'beta'; available: alpha; searched: the module path, "
                        + "the class path and the plugins directory "
                        + plugins.toAbsolutePath().normalize()
                        + " (set by config.plugins_dir)",
                e.getMessage());
    }
}
