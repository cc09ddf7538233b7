package io.kvconnect.api;

import io.kvconnect.api.common.Stability;

/** The context of a worker-side connector. */
@Stability(Stability.Level.EVOLVING)
public interface WorkerContext extends ConnectorContext {
    /** This worker's tensor-parallel rank, in {@code [0, engine().tensorParallelSize())}. */
    int rank();

    /**
     * The same context for a child connector at {@code childName} (appended to {@link
     * #instanceName()}), for composites.
     */
    WorkerContext child(String childName);
}
