package io.kvconnect.core.plugin;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.EngineInfo;
import java.time.InstantSource;

/** The engine's implementations of the connector contexts: plain immutable values. */
public final class EngineContexts {
    private EngineContexts() {}

    /** The context of the scheduler-side connector at {@code instanceName}. */
    public static SchedulerContext scheduler(
            EngineInfo engine, ConnectorCatalog catalog, InstantSource clock, String instanceName) {
        return new Scheduler(engine, catalog, clock, instanceName);
    }

    /** The context of the worker-side connector of {@code rank} at {@code instanceName}. */
    public static WorkerContext worker(
            EngineInfo engine, ConnectorCatalog catalog, InstantSource clock, String instanceName, int rank) {
        if (rank < 0 || rank >= engine.tensorParallelSize()) {
            throw new IllegalArgumentException("rank " + rank + " not in [0, " + engine.tensorParallelSize() + ")");
        }
        return new Worker(engine, catalog, clock, instanceName, rank);
    }

    private record Scheduler(EngineInfo engine, ConnectorCatalog catalog, InstantSource clock, String instanceName)
            implements SchedulerContext {
        @Override
        public SchedulerContext child(String childName) {
            return new Scheduler(engine, catalog, clock, instanceName + "." + childName);
        }
    }

    private record Worker(
            EngineInfo engine, ConnectorCatalog catalog, InstantSource clock, String instanceName, int rank)
            implements WorkerContext {
        @Override
        public WorkerContext child(String childName) {
            return new Worker(engine, catalog, clock, instanceName + "." + childName, rank);
        }
    }
}
