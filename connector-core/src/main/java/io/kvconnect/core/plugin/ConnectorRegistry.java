package io.kvconnect.core.plugin;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConfigException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The usable connectors by name, plus the problems found while discovering them. Immutable.
 * Connectors reach it through {@link ConnectorCatalog}.
 */
public final class ConnectorRegistry implements ConnectorCatalog {
    private final SortedMap<String, DiscoveredConnector> byName;
    private final List<PluginProblem> problems;

    ConnectorRegistry(Map<String, DiscoveredConnector> byName, List<PluginProblem> problems) {
        this.byName = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(byName));
        this.problems = List.copyOf(problems);
    }

    @Override
    public Optional<ConnectorProvider> find(String name) {
        return Optional.ofNullable(byName.get(name)).map(DiscoveredConnector::provider);
    }

    @Override
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /** Every usable connector, sorted by name. */
    public Collection<DiscoveredConnector> connectors() {
        return byName.values();
    }

    /** Plugins that could not be used, in discovery order. */
    public List<PluginProblem> problems() {
        return problems;
    }

    /**
     * The connector called {@code name}, as the configuration field at {@code path} asks.
     *
     * @throws ConfigException naming the field, the unknown name, the available names and any
     *     plugin problem that may explain why it is missing
     */
    public DiscoveredConnector require(String path, String name) {
        DiscoveredConnector found = byName.get(name);
        if (found != null) {
            return found;
        }
        var message = new StringBuilder("unknown connector '").append(name).append("'; available: ")
                .append(byName.isEmpty() ? "(none)" : String.join(", ", byName.keySet()));
        if (!problems.isEmpty()) {
            message.append("; plugins that could not be used: ");
            problems.forEach(p -> message.append("[").append(p).append("] "));
        }
        throw new ConfigException(path, message.toString().strip());
    }
}
