package io.kvconnect.core.run;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.core.config.ConnectorEntry;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.exec.BoundedCall;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.plugin.DiscoveredConnector;
import io.kvconnect.core.plugin.EngineContexts;
import io.kvconnect.core.sched.ContainedThrowable;
import java.time.InstantSource;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;

/** Builds an engine from a validated configuration and the discovered connectors. */
public final class EngineFactory {
    /** How long creating a connector's side may take before start-up gives up on it. */
    static final java.time.Duration START_BOUND = java.time.Duration.ofSeconds(30);

    private EngineFactory() {}

    /**
     * Builds the engine, creating the configured connector's scheduler side and one worker side
     * per worker through its provider. The engine ignores interrupts of its thread ({@link
     * Engine#ignoreStrayInterrupts()}): the commands that use it never cancel a step that way.
     *
     * @throws io.kvconnect.api.common.ConfigException if the connector is unknown or its provider
     *     refuses its configuration, or if the engine's memory could not be had: a worker's KV cache
     *     (named as {@code config.gpu_blocks}) or the connector's host buffers beyond {@code
     *     host_memory_budget} (named as {@code config.host_memory_budget}); the message has the sizes
     */
    public static Engine create(EngineConfig config, ConnectorRegistry registry, boolean checkInvariants) {
        return create(config, registry, checkInvariants, UnaryOperator.identity());
    }

    /**
     * As {@link #create(EngineConfig, ConnectorRegistry, boolean)}, with the connector's scheduler
     * side passed through {@code wrapScheduler} before the engine binds it: for tools that observe
     * a connector's hooks by forwarding them (a wrapper must forward every hook and return the
     * wrapped side's results unchanged); it is not called when the configuration has no connector.
     */
    public static Engine create(
            EngineConfig config,
            ConnectorRegistry registry,
            boolean checkInvariants,
            UnaryOperator<SchedulerConnector> wrapScheduler) {
        EngineInfo info = new EngineInfo(
                "engine-" + UUID.randomUUID(),
                config.model(),
                config.blockSize(),
                config.gpuBlocks(),
                config.workers(),
                config.asyncScheduling());
        Optional<EngineSetup.ConnectorSides> sides = config.connector()
                .map(entry -> sides(entry, registry, info).wrap(wrapScheduler, UnaryOperator.identity()));
        EngineSetup setup = new EngineSetup(config, sides, CopyFaults.NONE, checkInvariants);
        try {
            Engine engine = new Engine(setup);
            // The commands never interrupt the engine thread to cancel: an interrupt of it can
            // only be a connector's, which must not end the run.
            engine.ignoreStrayInterrupts();
            return engine;
        } catch (RuntimeException e) {
            throw MemoryStartFailure.explain(e, config).orElseThrow(() -> e);
        }
    }

    private static EngineSetup.ConnectorSides sides(ConnectorEntry entry, ConnectorRegistry registry, EngineInfo info) {
        DiscoveredConnector found = registry.require(entry.path() + ".name", entry.name());
        return sides(found.provider(), entry.config(), info, registry, InstantSource.system());
    }

    /**
     * Creates {@code provider}'s scheduler side now and a factory of its worker sides, with the
     * engine's contexts (instance name {@code connector}); shared by the engine, the conformance
     * kit, the soak and the kit's engine ({@code KitEngine}).
     *
     * @throws io.kvconnect.api.common.ConfigException if the provider refuses {@code config}
     */
    public static EngineSetup.ConnectorSides sides(
            ConnectorProvider provider,
            ConnectorConfig config,
            EngineInfo info,
            ConnectorCatalog catalog,
            InstantSource clock) {
        SchedulerConnector scheduler;
        try {
            scheduler = BoundedCall.call(
                    provider.name(),
                    "createSchedulerConnector",
                    START_BOUND,
                    () -> provider.createSchedulerConnector(
                            config, EngineContexts.scheduler(info, catalog, clock, "connector")));
        } catch (BoundedCall.PluginCallException e) {
            // A provider refusing its configuration says so with a ConfigException: keep it as is.
            if (e.getCause() instanceof io.kvconnect.api.common.ConfigException refused) {
                throw refused;
            }
            Throwable thrown = e.getCause();
            throw new IllegalStateException(e.getMessage(), thrown == null ? null : ContainedThrowable.of(thrown));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating connector '" + provider.name() + "'", e);
        }
        return new EngineSetup.ConnectorSides(
                provider.name(),
                scheduler,
                rank -> provider.createWorkerConnector(
                        config, EngineContexts.worker(info, catalog, clock, "connector", rank)));
    }
}
