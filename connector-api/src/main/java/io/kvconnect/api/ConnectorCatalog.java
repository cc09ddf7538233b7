package io.kvconnect.api;

import java.util.List;
import java.util.Optional;

/**
 * The connectors the engine discovered, by name. Given to connectors through {@link
 * ConnectorContext#catalog()} so that a composite connector can build its children from
 * configuration without depending on them.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface ConnectorCatalog {
    /**
     * {@return the provider registered under {@code name}, if any}
     *
     * @param name a connector name, as in a configuration file
     */
    Optional<ConnectorProvider> find(String name);

    /** {@return every registered name, sorted} */
    List<String> names();
}
