package io.kvconnect.core.plugin;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where discovery looks for plugins, and who chose it, so that its errors can name both.
 *
 * <p>A directory someone set (the {@code --plugins-dir} option or the configuration's {@code
 * plugins_dir}) must exist: a missing one is a configuration error naming the path and the setting,
 * never an empty directory in disguise. The default, {@value #DEFAULT_NAME} in the working
 * directory, may be absent: then there are no plugins, and an unknown connector's error says that
 * directory was not there.
 *
 * @param path the directory as given; a relative one is relative to the working directory
 * @param setting the option or configuration field that set it (such as {@code --plugins-dir} or
 *     {@code config.plugins_dir}), or empty for the default
 */
public record PluginsDirectory(Path path, Optional<String> setting) {
    /** The default directory's name, relative to the working directory. */
    public static final String DEFAULT_NAME = "plugins";

    /** Checks for nulls and an empty setting name. */
    public PluginsDirectory {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(setting, "setting");
        if (setting.isPresent() && setting.get().isBlank()) {
            throw new IllegalArgumentException("a setting name is required");
        }
    }

    /** The default: {@value #DEFAULT_NAME} in the working directory, which may be absent. */
    public static PluginsDirectory byDefault() {
        return new PluginsDirectory(Path.of(DEFAULT_NAME), Optional.empty());
    }

    /** A directory {@code setting} (an option or a configuration field's path) names; it must exist. */
    public static PluginsDirectory setBy(String setting, Path path) {
        return new PluginsDirectory(path, Optional.of(setting));
    }

    /** Whether nobody set it, so that its absence is no error. */
    public boolean isDefault() {
        return setting.isEmpty();
    }

    /** The absolute, normalised path, as messages name it. */
    public Path absolute() {
        return path.toAbsolutePath().normalize();
    }

    /** {@code plugins directory /abs/path (set by --plugins-dir)}, or {@code default plugins directory /abs/path}. */
    public String describe() {
        return setting.map(s -> "plugins directory " + absolute() + " (set by " + s + ")")
                .orElseGet(() -> "default plugins directory " + absolute());
    }
}
