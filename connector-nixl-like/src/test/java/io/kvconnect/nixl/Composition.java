package io.kvconnect.nixl;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.multi.MultiConnectorProvider;
import io.kvconnect.offload.OffloadConnectorProvider;
import io.kvconnect.testkit.KitEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The connector each engine of a disaggregation test runs, built around that engine's nixl-like
 * configuration: nixl-like alone ({@link #ALONE}), or a {@code multi} whose children are nixl-like
 * and an offload host tier, in either order ({@link #withOffload}), the realistic composition for
 * prefill/decode disaggregation (the transfer between engines plus a host tier in each).
 *
 * <p>Tests read nixl-like's counters through {@link #stat}, which knows where the composite puts
 * them ({@code 0:nixl-like.sends_offered} rather than {@code sends_offered}). Immutable.
 *
 * @param name what the composition is, for reports and test names
 * @param provider the provider of the engines' connector
 * @param others further providers in the engines' catalog (a composite's children)
 * @param offload the offload child's configuration, or {@code null} for nixl-like alone
 * @param nixlIndex nixl-like's position among the composite's children (0 when alone)
 */
record Composition(
        String name,
        ConnectorProvider provider,
        List<ConnectorProvider> others,
        Map<String, Object> offload,
        int nixlIndex) {
    /** nixl-like alone on each engine. */
    static final Composition ALONE = new Composition("nixl-like", Disagg.PROVIDER, List.of(), null, 0);

    /** Copies the list. */
    Composition {
        others = List.copyOf(others);
    }

    /**
     * A {@code multi} of nixl-like and offload (configured with {@code offloadConfig}) on each
     * engine: nixl-like first when {@code nixlFirst}, else offload first.
     */
    static Composition withOffload(boolean nixlFirst, Map<String, Object> offloadConfig) {
        return new Composition(
                nixlFirst ? "multi[nixl-like, offload]" : "multi[offload, nixl-like]",
                new MultiConnectorProvider(),
                List.of(Disagg.PROVIDER, new OffloadConnectorProvider()),
                Map.copyOf(offloadConfig),
                nixlFirst ? 0 : 1);
    }

    /** The key nixl-like's transfer parameters and stats are kept under in the composite, such as {@code 0:nixl-like}. */
    String nixlKey() {
        return nixlIndex + ":" + NixlConnectorProvider.NAME;
    }

    /** The engine connector's configuration around nixl-like's {@code nixl} configuration. */
    Map<String, Object> config(Map<String, Object> nixl) {
        if (offload == null) {
            return nixl;
        }
        List<Object> children = new ArrayList<>(List.of(Map.of("name", "offload", "config", offload)));
        children.add(nixlIndex, Map.of("name", NixlConnectorProvider.NAME, "config", nixl));
        return Map.of("connectors", List.copyOf(children));
    }

    /** An engine whose connector is this composition around {@code nixl}. */
    KitEngine engine(Map<String, Object> nixl, KitEngine.Options options) {
        return KitEngine.create(Optional.of(provider), others, config(nixl), options);
    }

    /** nixl-like's counter {@code name} in {@code engine}'s connector stats (0 if absent). */
    long stat(KitEngine engine, String name) {
        return nixlStats(engine).getOrDefault(name, 0L).longValue();
    }

    /** nixl-like's counters in {@code engine}'s connector stats, under their own names. */
    Map<String, Number> nixlStats(KitEngine engine) {
        Map<String, Number> all = engine.connectorStats();
        if (offload == null) {
            return all;
        }
        String prefix = nixlKey() + ".";
        Map<String, Number> mine = new java.util.TreeMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                mine.put(k.substring(prefix.length()), v);
            }
        });
        return mine;
    }
}
