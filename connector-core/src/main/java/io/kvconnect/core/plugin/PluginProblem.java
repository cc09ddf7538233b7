package io.kvconnect.core.plugin;

import java.util.Objects;
import java.util.Optional;

/**
 * A plugin that could not be used, and why. Discovery records these instead of failing, so one
 * broken jar does not stop the engine; a configuration that names an affected connector fails
 * with the problem in its message ({@link ConnectorRegistry#require}).
 *
 * @param location the jar, folder or module concerned
 * @param message what is wrong and what to do, in words an operator can act on
 * @param connector the name of the connector refused, when discovery learnt it (a name provided
 *     twice); empty when the plugin was refused before it could say its name (a provider that
 *     throws, a plugin that references engine internals)
 */
public record PluginProblem(String location, String message, Optional<String> connector) {
    /** Checks for nulls. */
    public PluginProblem {
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(connector, "connector");
    }

    /** A problem of a plugin whose connector name is not known. */
    public PluginProblem(String location, String message) {
        this(location, message, Optional.empty());
    }

    @Override
    public String toString() {
        return location + ": " + message;
    }
}
