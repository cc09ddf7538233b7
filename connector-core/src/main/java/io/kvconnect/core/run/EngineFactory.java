package io.kvconnect.core.run;

import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.core.config.ConnectorEntry;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.plugin.DiscoveredConnector;
import io.kvconnect.core.plugin.EngineContexts;
import java.time.InstantSource;
import java.util.Optional;
import java.util.UUID;

/** Builds an engine from a validated configuration and the discovered connectors. */
public final class EngineFactory {
    private EngineFactory() {
    }

    /**
     * Builds the engine, creating the configured connector's scheduler side and one worker side
     * per worker through its provider.
     *
     * @throws io.kvconnect.api.common.ConfigException if the connector is unknown or its provider
     *     refuses its configuration
     */
    public static Engine create(EngineConfig config, ConnectorRegistry registry, boolean checkInvariants) {
        EngineInfo info = new EngineInfo("engine-" + UUID.randomUUID(), config.model(), config.blockSize(),
                config.gpuBlocks(), config.workers(), config.asyncScheduling());
        Optional<EngineSetup.ConnectorSides> sides = config.connector().map(entry -> sides(entry, registry, info));
        EngineSetup setup = new EngineSetup(config.model(), config.blockSize(), config.gpuBlocks(), config.workers(),
                config.scheduler(), config.kvLayout(), config.verifyKv(), config.cost(), sides, CopyFaults.NONE,
                checkInvariants);
        return new Engine(setup);
    }

    private static EngineSetup.ConnectorSides sides(ConnectorEntry entry, ConnectorRegistry registry, EngineInfo info) {
        DiscoveredConnector found = registry.require(entry.path() + ".name", entry.name());
        InstantSource clock = InstantSource.system();
        SchedulerContext context = EngineContexts.scheduler(info, registry, clock, "connector");
        SchedulerConnector scheduler = found.provider().createSchedulerConnector(entry.config(), context);
        return new EngineSetup.ConnectorSides(found.name(), scheduler, rank -> found.provider()
                .createWorkerConnector(entry.config(), EngineContexts.worker(info, registry, clock, "connector", rank)));
    }
}
