package io.kvconnect.core.cli;

import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.EngineConfigReader;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Options shared by the commands that need a configuration and the plugins: a picocli mixin
 * ({@code @Mixin EngineOptions options}) of the engine's commands and of the launcher's.
 */
public final class EngineOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "JSON configuration file (default: the embedded default configuration).")
    Path configFile;

    @Option(names = "--plugins-dir", paramLabel = "DIR",
            description = "Plugins directory; overrides the configuration's plugins_dir.")
    Path pluginsDirectory;

    /** The configuration file given with {@code --config}, or {@code null} for the embedded default. */
    public Path configFile() {
        return configFile;
    }

    /** The plugins directory given with {@code --plugins-dir}, or {@code null} if none was given. */
    public Path pluginsDirectoryOption() {
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

    /** The plugins directory: the option's, else {@code config}'s. */
    public Path pluginsDirectory(EngineConfig config) {
        return pluginsDirectory != null ? pluginsDirectory : config.pluginsDirectory();
    }
}
