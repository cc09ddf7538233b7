package io.kvconnect.core.plugin;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.core.sched.ContainedThrowable;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A connector provider the engine found, with where it came from.
 *
 * @param provider the instantiated provider
 * @param name its name ({@link ConnectorProvider#name()}, validated)
 * @param version its version
 * @param description its one-line description
 * @param origin how it was found
 * @param module the module that provides it, or {@code "(unnamed)"} on the class path
 * @param location the jar or folder it was loaded from
 */
public record DiscoveredConnector(
        ConnectorProvider provider,
        String name,
        String version,
        String description,
        ConnectorOrigin origin,
        String module,
        String location) {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,63}");

    /** Validates. */
    public DiscoveredConnector {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(origin, "origin");
    }

    /**
     * Asks {@code provider} for its name, version and description and checks them.
     *
     * @throws IllegalStateException saying what is wrong, if the provider throws or answers
     *     something invalid
     */
    static DiscoveredConnector of(ConnectorProvider provider, ConnectorOrigin origin, String module, String location) {
        String type = provider.getClass().getName();
        String name;
        String version;
        String description;
        try {
            name = provider.name();
            version = provider.version();
            description = provider.description();
        } catch (RuntimeException | LinkageError e) {
            Throwable copy = ContainedThrowable.of(e); // plugin code: printed only as an engine-owned copy
            throw new IllegalStateException("provider " + type + " threw while describing itself: " + copy, copy);
        }
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalStateException("provider " + type + " has an invalid name '" + name
                    + "'; a name is lower-case letters, digits and '-', starting with a letter, at most 64 characters");
        }
        if (version == null || version.isBlank()) {
            throw new IllegalStateException("provider " + type + " (" + name + ") has no version");
        }
        return new DiscoveredConnector(
                provider, name, version, description == null ? "" : description, origin, module, location);
    }

    /** {@code origin location}, for messages that must name the jar. */
    public String source() {
        return origin.label() + " " + location;
    }
}
