package io.kvconnect.api;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;

/**
 * The entry point of a connector plugin, found by {@link java.util.ServiceLoader}.
 *
 * <p>A plugin module declares {@code provides io.kvconnect.api.ConnectorProvider with ...} (and, for
 * class-path use, lists the class in {@code META-INF/services/io.kvconnect.api.ConnectorProvider}).
 * The class needs a public no-argument constructor that does nothing expensive and cannot fail:
 * the engine instantiates every provider it finds to list them, whether configured or not.
 *
 * <p>The engine calls {@link #createSchedulerConnector} once, then {@link #createWorkerConnector}
 * once per worker in rank order, one call at a time, while it starts: on a start-up thread of its
 * own, not on the threads that later call the sides' hooks, and each call bounded by the engine's
 * hook timeout. Both receive the same {@link ConnectorConfig}. A factory that rejects its
 * configuration throws {@link ConfigException} naming the field; the engine then refuses to start.
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public interface ConnectorProvider {
    /**
     * {@return the connector's unique name, used in configuration files} Lower-case letters, digits
     * and {@code -}, starting with a letter, at most 64 characters (for example {@code "offload"}).
     */
    String name();

    /** {@return the connector's version, for listings and handshakes (for example {@code "1.2.0"})} */
    String version();

    /** {@return one line saying what the connector does} Default: empty. */
    default String description() {
        return "";
    }

    /**
     * Creates the scheduler-side connector.
     *
     * @param config this connector's configuration
     * @param context what the engine tells the scheduler side
     * @return the scheduler side, ready for {@code bindSchedulerState}
     * @throws ConfigException if {@code config} is invalid
     */
    SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context);

    /**
     * Creates the worker-side connector for the worker of {@code context.rank()}.
     *
     * @param config this connector's configuration (equal to the scheduler side's)
     * @param context what the engine tells this worker's side, its rank included
     * @return the worker side, ready for {@code registerKvCaches}
     * @throws ConfigException if {@code config} is invalid
     */
    WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context);
}
