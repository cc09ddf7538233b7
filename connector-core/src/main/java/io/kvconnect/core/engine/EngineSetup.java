package io.kvconnect.core.engine;

import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.model.ModelCost;
import io.kvconnect.core.sched.SchedulerConfig;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;

/**
 * Everything an {@link Engine} is built from.
 *
 * @param model the model's KV shape
 * @param blockSize tokens per block
 * @param gpuBlocks usable GPU blocks per worker (the null block is added)
 * @param workers tensor-parallel workers
 * @param scheduler scheduler limits and modes
 * @param layout KV layout of the workers' memory
 * @param verify whether the model checks every KV read
 * @param cost the modelled compute cost
 * @param connector the connector, if any
 * @param copyFaults copy faults to inject (tests)
 * @param checkInvariants whether to check the engine's invariants after every step (tests)
 */
public record EngineSetup(ModelShape model, int blockSize, int gpuBlocks, int workers, SchedulerConfig scheduler,
                          LayoutKind layout, boolean verify, ModelCost cost, Optional<ConnectorSides> connector,
                          CopyFaults copyFaults, boolean checkInvariants) {
    /** Checks. */
    public EngineSetup {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(cost, "cost");
        Objects.requireNonNull(connector, "connector");
        Objects.requireNonNull(copyFaults, "copyFaults");
        if (blockSize <= 0 || gpuBlocks <= 0 || workers <= 0) {
            throw new IllegalArgumentException("block size, GPU blocks and workers must be positive");
        }
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
        public ConnectorSides wrap(UnaryOperator<SchedulerConnector> schedulerWrapper,
                                   UnaryOperator<WorkerConnector> workerWrapper) {
            return new ConnectorSides(name, schedulerWrapper.apply(scheduler),
                    rank -> workerWrapper.apply(workers.apply(rank)));
        }
    }

    /** A copy with another connector. */
    public EngineSetup withConnector(Optional<ConnectorSides> sides) {
        return new EngineSetup(model, blockSize, gpuBlocks, workers, scheduler, layout, verify, cost, sides, copyFaults,
                checkInvariants);
    }

    /** A copy with another scheduler configuration. */
    public EngineSetup withScheduler(SchedulerConfig s) {
        return new EngineSetup(model, blockSize, gpuBlocks, workers, s, layout, verify, cost, connector, copyFaults,
                checkInvariants);
    }
}
