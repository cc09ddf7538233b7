package io.kvconnect.core.engine;

import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.memory.CudaSource;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;

/**
 * What an {@link Engine} is built from: its configuration, and what a configuration cannot say:
 * the connector's objects and the hooks tests use.
 *
 * @param config the engine's configuration (its connector entry is not read here: the connector
 *     comes as {@code connector}, already created)
 * @param connector the connector's sides, if any
 * @param copyFaults copy faults to inject (tests)
 * @param checkInvariants whether to check the engine's invariants after every step (tests)
 * @param cuda where {@code memory: auto | cuda} finds CUDA: {@link CudaSource#JCUDA}, or in tests
 *     {@link CudaSource#hostFake} (device memory simulated on the host)
 */
public record EngineSetup(
        EngineConfig config,
        Optional<ConnectorSides> connector,
        CopyFaults copyFaults,
        boolean checkInvariants,
        CudaSource cuda) {
    /** Checks for nulls. */
    public EngineSetup {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(connector, "connector");
        Objects.requireNonNull(copyFaults, "copyFaults");
        Objects.requireNonNull(cuda, "cuda");
    }

    /** A setup whose CUDA is the machine's, through JCuda. */
    public EngineSetup(
            EngineConfig config, Optional<ConnectorSides> connector, CopyFaults copyFaults, boolean checkInvariants) {
        this(config, connector, copyFaults, checkInvariants, CudaSource.JCUDA);
    }

    /** A setup without a connector, copy faults or invariant checks. */
    public static EngineSetup of(EngineConfig config) {
        return new EngineSetup(config, Optional.empty(), CopyFaults.NONE, false);
    }

    /**
     * A connector's two sides.
     *
     * @param name the connector's name, for messages
     * @param scheduler the scheduler side
     * @param workers creates the worker side of a rank
     */
    public record ConnectorSides(String name, SchedulerConnector scheduler, IntFunction<WorkerConnector> workers) {
        /** Checks. */
        public ConnectorSides {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(scheduler, "scheduler");
            Objects.requireNonNull(workers, "workers");
        }

        /** The same sides, each wrapped (tests and the kit decorate connectors to count or inject faults). */
        public ConnectorSides wrap(
                UnaryOperator<SchedulerConnector> schedulerWrapper, UnaryOperator<WorkerConnector> workerWrapper) {
            return new ConnectorSides(
                    name, schedulerWrapper.apply(scheduler), rank -> workerWrapper.apply(workers.apply(rank)));
        }
    }

    /** A copy with another connector. */
    public EngineSetup withConnector(Optional<ConnectorSides> sides) {
        return new EngineSetup(config, sides, copyFaults, checkInvariants, cuda);
    }

    /** A copy whose configuration {@code change} edits (another scheduler, end-of-sequence rate, pacing ...). */
    public EngineSetup withConfig(UnaryOperator<EngineConfig.Builder> change) {
        return new EngineSetup(change.apply(config.toBuilder()).build(), connector, copyFaults, checkInvariants, cuda);
    }

    /** A copy with other copy faults. */
    public EngineSetup withCopyFaults(CopyFaults faults) {
        return new EngineSetup(config, connector, faults, checkInvariants, cuda);
    }

    /** A copy whose CUDA comes from {@code source} (tests: {@link CudaSource#hostFake}). */
    public EngineSetup withCuda(CudaSource source) {
        return new EngineSetup(config, connector, copyFaults, checkInvariants, source);
    }
}
