package io.kvconnect.core.cli;

import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.EngineConfigReader;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by the commands that need a configuration and the plugins. */
final class EngineOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "JSON configuration file (default: the embedded default configuration).")
    Path configFile;

    @Option(names = "--plugins-dir", paramLabel = "DIR",
            description = "Plugins directory; overrides the configuration's plugins_dir.")
    Path pluginsDirectory;

    EngineConfig config() {
        return configFile == null ? EngineConfigReader.readDefault() : EngineConfigReader.read(configFile);
    }

    Path pluginsDirectory(EngineConfig config) {
        return pluginsDirectory != null ? pluginsDirectory : config.pluginsDirectory();
    }
}
