package io.kvconnect.core.engine;

import io.kvconnect.core.config.Pacing;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.memory.HostMemoryBudget;
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
 * @param eosRate the probability per sampled position that the model samples the end-of-sequence
 *     token, in [0, 1]
 * @param pacing whether steps last their modelled time in wall time
 * @param hostMemoryBudget bytes of host memory the connector's workers may take together through
 *     {@code BlockCopyService.allocateHostBuffer} (see {@link HostMemoryBudget})
 */
public record EngineSetup(ModelShape model, int blockSize, int gpuBlocks, int workers, SchedulerConfig scheduler,
                          LayoutKind layout, boolean verify, ModelCost cost, Optional<ConnectorSides> connector,
                          CopyFaults copyFaults, boolean checkInvariants, double eosRate, Pacing pacing,
                          long hostMemoryBudget) {
    /** Checks. */
    public EngineSetup {
        if (hostMemoryBudget < 0) {
            throw new IllegalArgumentException("the host memory budget cannot be negative, got " + hostMemoryBudget);
        }
        Objects.requireNonNull(pacing, "pacing");
        if (!(eosRate >= 0 && eosRate <= 1)) {
            throw new IllegalArgumentException("the end-of-sequence rate must be in [0, 1], got " + eosRate);
        }
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

    /** A setup with the default host memory budget of this machine ({@link HostMemoryBudget#defaultBytes()}). */
    public EngineSetup(ModelShape model, int blockSize, int gpuBlocks, int workers, SchedulerConfig scheduler,
                       LayoutKind layout, boolean verify, ModelCost cost, Optional<ConnectorSides> connector,
                       CopyFaults copyFaults, boolean checkInvariants, double eosRate, Pacing pacing) {
        this(model, blockSize, gpuBlocks, workers, scheduler, layout, verify, cost, connector, copyFaults,
                checkInvariants, eosRate, pacing, HostMemoryBudget.defaultBytes());
    }

    /** A setup whose requests end only at their length cap, without pacing. */
    public EngineSetup(ModelShape model, int blockSize, int gpuBlocks, int workers, SchedulerConfig scheduler,
                       LayoutKind layout, boolean verify, ModelCost cost, Optional<ConnectorSides> connector,
                       CopyFaults copyFaults, boolean checkInvariants) {
        this(model, blockSize, gpuBlocks, workers, scheduler, layout, verify, cost, connector, copyFaults,
                checkInvariants, 0, Pacing.OFF);
    }

    /** A copy with another connector. */
    public EngineSetup withConnector(Optional<ConnectorSides> sides) {
        return new EngineSetup(model, blockSize, gpuBlocks, workers, scheduler, layout, verify, cost, sides, copyFaults,
                checkInvariants, eosRate, pacing, hostMemoryBudget);
    }

    /** A copy with another scheduler configuration. */
    public EngineSetup withScheduler(SchedulerConfig s) {
        return new EngineSetup(model, blockSize, gpuBlocks, workers, s, layout, verify, cost, connector, copyFaults,
                checkInvariants, eosRate, pacing, hostMemoryBudget);
    }

    /** A copy with another end-of-sequence rate. */
    public EngineSetup withEosRate(double rate) {
        return new EngineSetup(model, blockSize, gpuBlocks, workers, scheduler, layout, verify, cost, connector,
                copyFaults, checkInvariants, rate, pacing, hostMemoryBudget);
    }

    /** A copy with other copy faults. */
    public EngineSetup withCopyFaults(CopyFaults faults) {
        return new EngineSetup(model, blockSize, gpuBlocks, workers, scheduler, layout, verify, cost, connector,
                faults, checkInvariants, eosRate, pacing, hostMemoryBudget);
    }

    /** A copy with another pacing. */
    public EngineSetup withPacing(Pacing p) {
        return new EngineSetup(model, blockSize, gpuBlocks, workers, scheduler, layout, verify, cost, connector,
                copyFaults, checkInvariants, eosRate, p, hostMemoryBudget);
    }

    /** A copy with another host memory budget. */
    public EngineSetup withHostMemoryBudget(long bytes) {
        return new EngineSetup(model, blockSize, gpuBlocks, workers, scheduler, layout, verify, cost, connector,
                copyFaults, checkInvariants, eosRate, pacing, bytes);
    }
}
