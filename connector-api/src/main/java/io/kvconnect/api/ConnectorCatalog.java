package io.kvconnect.api;

import io.kvconnect.api.common.Stability;
import java.util.List;
import java.util.Optional;

/**
 * The connectors the engine discovered, by name. Given to connectors through {@link
 * ConnectorContext#catalog()} so that a composite connector can build its children from
 * configuration without depending on them.
 */
@Stability(Stability.Level.EVOLVING)
public interface ConnectorCatalog {
    /** The provider registered under {@code name}, if any. */
    Optional<ConnectorProvider> find(String name);

    /** Every registered name, sorted. */
    List<String> names();
}
