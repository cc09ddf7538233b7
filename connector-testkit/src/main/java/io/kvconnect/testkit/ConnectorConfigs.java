package io.kvconnect.testkit;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.core.config.JsonConnectorConfig;
import java.util.Map;

/**
 * Builds {@link ConnectorConfig}s for a connector's tests, with the engine's own implementation:
 * the typed getters parse, check and word their errors exactly as they do when the engine reads a
 * configuration file, so a test of a connector's configuration tests what operators will see. A
 * connector's tests need nothing of the engine for this but the kit.
 *
 * <pre>{@code
 * ConnectorConfig c = ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, Map.of("capacity", "64MiB"));
 * }</pre>
 */
public final class ConnectorConfigs {
    /**
     * The path the engine gives the configured connector's own object (the {@code config} object of
     * the configuration file's {@code connector} entry): errors name fields below it, such as
     * {@code config.connector.config.capacity}. The kit's engines use it too.
     */
    public static final String ENGINE_PATH = "config.connector.config";

    private ConnectorConfigs() {}

    /**
     * A configuration object made of JSON-shaped values.
     *
     * @param path the object's full path, which error messages name (usually {@link #ENGINE_PATH})
     * @param values the members: strings, booleans, numbers, lists and string-keyed maps of those
     *     (deep-copied; integral numbers become {@code Long}, others {@code Double})
     * @return the configuration, immutable
     * @throws ConfigException if a value is null or of another type, naming its path
     * @throws IllegalArgumentException if {@code path} is blank
     */
    public static ConnectorConfig of(String path, Map<String, ?> values) {
        return JsonConnectorConfig.of(path, values);
    }

    /**
     * An empty configuration object, as a connector gets when its entry has no {@code config}.
     *
     * @param path the object's full path (usually {@link #ENGINE_PATH})
     * @return the configuration
     * @throws IllegalArgumentException if {@code path} is blank
     */
    public static ConnectorConfig empty(String path) {
        return JsonConnectorConfig.empty(path);
    }
}
