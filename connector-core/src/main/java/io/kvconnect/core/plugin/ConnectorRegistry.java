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
    private final String searched;

    /**
     * @param searched every place discovery looked, in words, for an unknown connector's message:
     *     the module path, the class path and the plugins directory with its absolute path
     */
    ConnectorRegistry(Map<String, DiscoveredConnector> byName, List<PluginProblem> problems, String searched) {
        this.byName = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(byName));
        this.problems = List.copyOf(problems);
        this.searched = searched;
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
     * The problems {@link #require require(path, name)} names in its error: those of plugins
     * refused as {@code name} (a name provided twice), else, when no usable connector has that
     * name, those of plugins refused before they could say their names, one of which may be it.
     * Empty when {@code name} is usable. A command reports the other problems itself, so that each
     * is reported once.
     */
    public List<PluginProblem> problemsExplaining(String name) {
        List<PluginProblem> named = problems.stream()
                .filter(p -> p.connector().filter(name::equals).isPresent())
                .toList();
        if (!named.isEmpty() || byName.containsKey(name)) {
            return named;
        }
        return problems.stream().filter(p -> p.connector().isEmpty()).toList();
    }

    /**
     * The connector called {@code name}, as the configuration field at {@code path} asks.
     *
     * @throws ConfigException naming the field and the name, and: if a plugin was refused as that
     *     connector, that it was refused and why; else the available names, every place searched
     *     and the plugins refused before they could say their names, one of which may be it
     */
    public DiscoveredConnector require(String path, String name) {
        DiscoveredConnector found = byName.get(name);
        if (found != null) {
            return found;
        }
        List<PluginProblem> explaining = problemsExplaining(name);
        String available = byName.isEmpty() ? "(none)" : String.join(", ", byName.keySet());
        if (explaining.stream().anyMatch(p -> p.connector().isPresent())) {
            // Such a problem's message names every jar concerned.
            throw new ConfigException(
                    path,
                    "connector '" + name + "' was refused: "
                            + String.join(
                                    "; ",
                                    explaining.stream()
                                            .map(PluginProblem::message)
                                            .toList()));
        }
        var message = new StringBuilder();
        if (explaining.isEmpty()) {
            message.append("unknown connector '")
                    .append(name)
                    .append("'; available: ")
                    .append(available);
        } else {
            message.append("connector '")
                    .append(name)
                    .append("' was not found, and ")
                    .append(
                            explaining.size() == 1
                                    ? "a plugin that may provide it was refused before it could say its name: "
                                    : explaining.size()
                                            + " plugins that may provide it were refused before they could say "
                                            + "their names: ")
                    .append(
                            explaining.size() == 1
                                    ? explaining.getFirst().toString()
                                    : String.join(
                                            " ",
                                            explaining.stream()
                                                    .map(p -> "[" + p + "]")
                                                    .toList()))
                    .append("; available: ")
                    .append(available);
        }
        message.append("; searched: ").append(searched);
        throw new ConfigException(path, message.toString());
    }
}
