package io.kvconnect.api;

import io.kvconnect.api.common.EngineInfo;
import java.time.InstantSource;

/**
 * What the engine tells a connector when it creates it; the base of {@link SchedulerContext} and
 * {@link WorkerContext}. Immutable.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface ConnectorContext {
    /** {@return facts about the engine} */
    EngineInfo engine();

    /** {@return the connectors the engine discovered, for composites} */
    ConnectorCatalog catalog();

    /**
     * {@return the engine's clock} Use it, not the system clock, for leases and timeouts: tests and
     * fault injection move it.
     */
    InstantSource clock();

    /**
     * {@return this instance's name, unique within the engine, for logs and stats} The engine names
     * the connector of its configuration {@code "connector"}; a composite names each child with
     * {@code child(childName)}, which appends {@code "." + childName}. The bundled {@code multi}
     * connector's child names are {@code <index>:<connector name>}, so its second child, an
     * offload connector, is {@code "connector.1:offload"}, and a child of a nested composite is
     * {@code "connector.1:multi.0:offload"}. The same on the scheduler side and on every worker.
     */
    String instanceName();
}
