package io.kvconnect.api;

import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.Stability;
import java.time.InstantSource;

/**
 * What the engine tells a connector when it creates it; the base of {@link SchedulerContext} and
 * {@link WorkerContext}. Immutable.
 */
@Stability(Stability.Level.EVOLVING)
public interface ConnectorContext {
    /** Facts about the engine. */
    EngineInfo engine();

    /** The connectors the engine discovered, for composites. */
    ConnectorCatalog catalog();

    /**
     * The engine's clock. Use it, not the system clock, for leases and timeouts: tests and fault
     * injection move it.
     */
    InstantSource clock();

    /**
     * This instance's place in the configuration, such as {@code "connectors[0]"} or {@code
     * "connectors[0].children[1]"}; unique within the engine, for logs and stats.
     */
    String instanceName();
}
