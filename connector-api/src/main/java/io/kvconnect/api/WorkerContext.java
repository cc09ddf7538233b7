package io.kvconnect.api;

/** The context of a worker-side connector. */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface WorkerContext extends ConnectorContext {
    /** {@return this worker's tensor-parallel rank, in {@code [0, engine().tensorParallelSize())}} */
    int rank();

    /**
     * {@return the same context for a child connector, for composites} Its {@link #instanceName()}
     * is this one's followed by {@code "." + childName}; the rank and everything else are shared.
     *
     * @param childName the child's name, unique among this connector's children
     */
    WorkerContext child(String childName);
}
