package io.kvconnect.api.common;

import io.kvconnect.api.Stability;

/**
 * What a connector's worker sides tell its scheduler side for one engine step (for example "store
 * job 17 finished"). The other direction of {@link ConnectorMetadata}.
 *
 * <p>Each worker reports at most one per step, in its {@code WorkerStepReport}.
 * The engine folds the values of all workers of a step from left to right in rank order with
 * {@link #aggregate} and passes the result to the scheduler side in
 * {@code ConnectorOutput.workerMetadata()}. Implementations must be immutable.
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public interface WorkerMetadata {
    /**
     * {@return this worker's value combined with another worker's value of the same step}
     *
     * <p>Called by the engine's executor thread. {@code other} was produced by the same
     * connector's worker side on another rank, so it is of this connector's own type. Must not
     * modify either operand; returns the combined value. Must be associative, because the fold
     * order is an implementation detail of the executor.
     *
     * @param other the value of another rank, or the values of several ranks already combined
     */
    WorkerMetadata aggregate(WorkerMetadata other);
}
