package io.kvconnect.core.plugin;

/**
 * A plugin that could not be used, and why. Discovery records these instead of failing, so one
 * broken jar does not stop the engine; a configuration that names an affected connector fails
 * with the problem in its message.
 *
 * @param location the jar, folder or module concerned
 * @param message what is wrong and what to do, in words an operator can act on
 */
public record PluginProblem(String location, String message) {
    @Override
    public String toString() {
        return location + ": " + message;
    }
}
