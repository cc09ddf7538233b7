package io.kvconnect.multi;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The validated configuration of the {@code multi} connector: its children, in priority order.
 *
 * <pre>{@code
 * {"connectors": [
 *     {"name": "offload", "config": {"capacity": "256MiB", "load": "sync"}},
 *     {"name": "offload", "config": {"capacity": "8GiB"}}]}
 * }</pre>
 *
 * <p>Every child is resolved before any is created, so a mistake in the last entry creates
 * nothing. Errors name the field by its full path, such as {@code
 * config.connector.config.connectors[1].name}.
 *
 * @param children the children, at least one
 */
record MultiConfig(List<Child> children) {
    /**
     * One configured child.
     *
     * @param key the child's instance key, such as {@code 1:offload} (see {@link ChildKeys})
     * @param provider its provider, from the engine's catalog
     * @param config its own configuration, handed to the provider as is
     */
    record Child(String key, ConnectorProvider provider, ConnectorConfig config) {}

    /** Copies the list. */
    MultiConfig {
        children = List.copyOf(children);
    }

    /**
     * Reads and validates {@code config}, resolving each child's name in {@code catalog}.
     *
     * @throws ConfigException naming the field: an unknown key, no children, an entry that is not
     *     {@code {"name", "config"}}, or a name the catalog does not know (the known ones are listed)
     */
    static MultiConfig parse(ConnectorConfig config, ConnectorCatalog catalog) {
        config.requireOnlyKeys("connectors");
        String shape = "a list of child connectors in priority order, each {\"name\": ..., \"config\": {...}}";
        if (!config.has("connectors")) {
            throw new ConfigException(config.fieldPath("connectors"), "is required: " + shape);
        }
        List<ConnectorConfig> entries = config.getObjectList("connectors");
        if (entries.isEmpty()) {
            throw new ConfigException(config.fieldPath("connectors"), "is empty; allowed: " + shape + ", at least one");
        }
        List<Child> children = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            ConnectorConfig entry = entries.get(i);
            entry.requireOnlyKeys("name", "config");
            String name = entry.requireString("name");
            ConnectorProvider provider = catalog.find(name)
                    .orElseThrow(() -> new ConfigException(
                            entry.fieldPath("name"),
                            "unknown connector '" + name + "'; available: "
                                    + (catalog.names().isEmpty() ? "(none)" : String.join(", ", catalog.names()))));
            ConnectorConfig own = entry.getObjectOrEmpty("config");
            children.add(new Child(ChildKeys.of(i, name), provider, own));
        }
        return new MultiConfig(children);
    }
}
