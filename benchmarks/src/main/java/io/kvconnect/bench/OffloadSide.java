package io.kvconnect.bench;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.core.config.JsonConnectorConfig;
import io.kvconnect.core.run.EngineFactory;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The offload connector's scheduler side for {@link SchedulerStepBenchmark}, found through discovery
 * (the benchmarks link no plugin) and created the way the engine creates it.
 *
 * <p>Its configuration: a 1 GiB tier and {@code store_threshold} at its maximum, so that it plans
 * no store (see {@link SchedulerStepBenchmark} for why).
 */
final class OffloadSide {
    static final String NAME = "offload";

    private OffloadSide() {}

    /** The scheduler side for an engine of {@code gpuBlocks} blocks of {@code blockSize} tokens, one worker. */
    static SchedulerConnector create(int blockSize, int gpuBlocks) {
        ConnectorProvider provider = ServiceLoader.load(ConnectorProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals(NAME))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no '" + NAME + "' connector on the class path"));
        ConnectorCatalog catalog = new ConnectorCatalog() {
            @Override
            public Optional<ConnectorProvider> find(String name) {
                return name.equals(NAME) ? Optional.of(provider) : Optional.empty();
            }

            @Override
            public List<String> names() {
                return List.of(NAME);
            }
        };
        EngineInfo info =
                new EngineInfo("bench", new ModelShape("bench", 2, 2, 64, DType.BF16), blockSize, gpuBlocks, 1, false);
        JsonConnectorConfig config =
                JsonConnectorConfig.of("connector.config", Map.of("capacity", "1GiB", "store_threshold", 1_000_000));
        return EngineFactory.sides(provider, config, info, catalog, InstantSource.system())
                .scheduler();
    }
}
