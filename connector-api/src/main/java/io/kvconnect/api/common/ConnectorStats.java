package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.util.Map;

/**
 * Transfer telemetry of a connector: counts and totals that add up across workers and steps.
 *
 * <p>Returned (and reset) each step by the scheduler side's {@code takeStats} and in each
 * worker's {@code WorkerStepReport}. The engine
 * aggregates the values of all workers and the scheduler side with {@link #aggregate}, keeps a
 * running total for the engine's lifetime and prints {@link #summary()} in its report.
 * Implementations must be immutable; {@link CounterStats} is a ready one.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface ConnectorStats {
    /**
     * {@return this value combined with {@code other}} Must not modify either operand; must be
     * associative and commutative.
     *
     * @param other a value the same connector produced on another worker or in another step
     */
    ConnectorStats aggregate(ConnectorStats other);

    /** {@return whether nothing was recorded} */
    boolean isEmpty();

    /** {@return named numbers for reports, in a stable order (for example {@code bytes_loaded})} */
    Map<String, Number> summary();
}
