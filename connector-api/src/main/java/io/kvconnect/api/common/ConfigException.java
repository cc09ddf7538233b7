package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.io.Serial;

/**
 * Invalid configuration: the message names the field by its full path (for example
 * {@code config.connector.config.capacity}) and says which values are allowed.
 *
 * <p>Thrown by {@link ConnectorConfig}'s typed getters and by connector factories that reject
 * their configuration. The engine reports it to the operator as is and does not start.
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public final class ConfigException extends IllegalArgumentException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String path;

    /**
     * Reports a problem with the field at {@code path}; the message is {@code path + ": " + problem}.
     *
     * @param path the full path of the offending field, never empty
     * @param problem what is wrong and what is allowed, without the path
     */
    public ConfigException(String path, String problem) {
        super(path + ": " + problem);
        this.path = path;
    }

    /** {@return the full path of the offending field} */
    public String path() {
        return path;
    }
}
