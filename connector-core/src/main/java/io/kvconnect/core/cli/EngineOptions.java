package io.kvconnect.core.cli;

import io.kvconnect.core.config.ConnectorEntry;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.EngineConfigReader;
import io.kvconnect.core.plugin.ConnectorDiscovery;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.plugin.PluginProblem;
import io.kvconnect.core.plugin.PluginsDirectory;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * Options shared by the commands that need a configuration and the plugins: a picocli mixin
 * ({@code @Mixin EngineOptions options}) of the engine's commands and of the launcher's.
 */
public final class EngineOptions {
    private static final String OPTION = "--plugins-dir";

    @Option(
            names = {"-c", "--config"},
            paramLabel = "FILE",
            description = "JSON configuration file (default: the embedded default configuration).")
    @Nullable
    Path configFile;

    @Option(
            names = OPTION,
            paramLabel = "DIR",
            description = "Plugins directory (must exist); overrides the configuration's plugins_dir.")
    @Nullable
    Path pluginsDirectory;

    /** The configuration file given with {@code --config}, or {@code null} for the embedded default. */
    public @Nullable Path configFile() {
        return configFile;
    }

    /** The plugins directory given with {@code --plugins-dir}, or {@code null} if none was given. */
    public @Nullable Path pluginsDirectoryOption() {
        return pluginsDirectory;
    }

    /**
     * The configuration: the file's, or the embedded default.
     *
     * @throws io.kvconnect.api.common.ConfigException if it is missing or invalid
     */
    public EngineConfig config() {
        return configFile == null ? EngineConfigReader.readDefault() : EngineConfigReader.read(configFile);
    }

    /** The plugins directory: the option's, else {@code config}'s (its {@code plugins_dir} or the default). */
    public PluginsDirectory pluginsDirectory(EngineConfig config) {
        return pluginsDirectory != null ? PluginsDirectory.setBy(OPTION, pluginsDirectory) : config.pluginsDirectory();
    }

    /**
     * Discovers the connectors and checks the configured one, reporting each refused plugin once:
     * a refusal that explains why the configured connector cannot be used is in the error thrown,
     * every other refusal is printed on {@code report} under {@code Refused plugins:}. Called by a
     * command, on the thread that runs it, before it starts an engine.
     *
     * @throws io.kvconnect.api.common.ConfigException if a plugins directory that was set does not
     *     exist, or the configured connector is unknown or was refused
     */
    public ConnectorRegistry discover(EngineConfig config, PrintWriter report) {
        ConnectorRegistry registry = ConnectorDiscovery.discover(pluginsDirectory(config), config.trustedPlugins());
        List<PluginProblem> explaining = config.connector()
                .map(entry -> registry.problemsExplaining(entry.name()))
                .orElse(List.of());
        printRefused(
                registry.problems().stream()
                        .filter(p -> !explaining.contains(p))
                        .toList(),
                report);
        report.flush();
        config.connector().ifPresent((ConnectorEntry entry) -> registry.require(entry.path() + ".name", entry.name()));
        return registry;
    }

    /** Prints {@code problems} under {@code Refused plugins:}, one a line; nothing if there are none. */
    static void printRefused(List<PluginProblem> problems, PrintWriter out) {
        if (problems.isEmpty()) {
            return;
        }
        out.println("Refused plugins:");
        for (PluginProblem p : problems) {
            out.println("  " + p);
        }
    }
}
