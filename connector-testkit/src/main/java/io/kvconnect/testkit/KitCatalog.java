package io.kvconnect.testkit;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The catalog the kit and the soak give a connector ({@code ConnectorContext.catalog()}): the
 * connector under test and the providers added with {@code withProviders}, by name.
 */
record KitCatalog(Map<String, ConnectorProvider> byName) implements ConnectorCatalog {
    /**
     * A catalog of {@code underTest} and {@code others}.
     *
     * @throws IllegalArgumentException if two providers share a name
     */
    static KitCatalog of(ConnectorProvider underTest, List<? extends ConnectorProvider> others) {
        Map<String, ConnectorProvider> byName = new TreeMap<>();
        byName.put(underTest.name(), underTest);
        for (ConnectorProvider p : others) {
            if (byName.putIfAbsent(Objects.requireNonNull(p, "provider").name(), p) != null) {
                throw new IllegalArgumentException("two providers are named '" + p.name() + "'");
            }
        }
        return new KitCatalog(Collections.unmodifiableMap(byName));
    }

    @Override
    public Optional<ConnectorProvider> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    @Override
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }
}
