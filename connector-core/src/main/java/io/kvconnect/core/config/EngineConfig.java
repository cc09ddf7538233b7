package io.kvconnect.core.config;

import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.memory.HostMemoryBudget;
import io.kvconnect.core.memory.MemorySelection;
import io.kvconnect.core.model.ModelCost;
import io.kvconnect.core.plugin.PluginsDirectory;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.SchedulerConfig;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The engine's configuration: the one record of everything an engine is made of, read from a file
 * by {@link EngineConfigReader} or built in code with {@link #builder}. What an engine is given
 * beyond its configuration (the connector's objects, test hooks) is in {@code EngineSetup}.
 *
 * @param model the model's KV shape
 * @param blockSize tokens per KV block
 * @param gpuBlocks usable KV blocks per worker
 * @param workers tensor-parallel workers
 * @param scheduler scheduler limits and modes (asynchronous scheduling and the load failure policy
 *     included)
 * @param kvLayout the workers' KV memory layout
 * @param verifyKv whether the model checks every KV read against its expected content
 * @param cost the modelled compute cost
 * @param pluginsDirectory where to look for plugin jars, and whether the file set it ({@code plugins_dir})
 * @param trustedPlugins module names of the plugins in the plugins directory that may use the JDK
 *     modules only trusted plugins may use ({@code jdk.unsupported} and the like); empty by default
 * @param connector the selected connector, if any
 * @param eosRate the probability per sampled position that the model samples end-of-sequence
 * @param pacing whether steps last their modelled time in wall time
 * @param hostMemoryBudget bytes of host memory the connector may take through {@code
 *     BlockCopyService.allocateHostBuffer}, all workers together
 * @param kvMemoryLimit bytes the KV cache of all workers may take together; the reader refused a
 *     configuration whose cache is larger
 * @param kvEvents where the engine publishes its KV events outside the process; empty for nowhere
 * @param memory where the KV caches live: host memory, CUDA device memory, or CUDA where usable
 */
public record EngineConfig(
        ModelShape model,
        int blockSize,
        int gpuBlocks,
        int workers,
        SchedulerConfig scheduler,
        LayoutKind kvLayout,
        boolean verifyKv,
        ModelCost cost,
        PluginsDirectory pluginsDirectory,
        Set<String> trustedPlugins,
        Optional<ConnectorEntry> connector,
        double eosRate,
        Pacing pacing,
        long hostMemoryBudget,
        long kvMemoryLimit,
        Optional<KvEventsConfig> kvEvents,
        MemorySelection memory) {

    /**
     * Checks what every engine needs. The reader checks ranges first, with the field paths in its
     * messages; these checks catch a configuration built in code.
     */
    public EngineConfig {
        if (blockSize <= 0 || gpuBlocks <= 0 || workers <= 0) {
            throw new IllegalArgumentException("block size, GPU blocks and workers must be positive, got " + blockSize
                    + ", " + gpuBlocks + ", " + workers);
        }
        if (!(eosRate >= 0 && eosRate <= 1)) {
            throw new IllegalArgumentException("the end-of-sequence rate must be in [0, 1], got " + eosRate);
        }
        if (hostMemoryBudget < 0) {
            throw new IllegalArgumentException("the host memory budget cannot be negative, got " + hostMemoryBudget);
        }
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(kvLayout, "kvLayout");
        Objects.requireNonNull(cost, "cost");
        Objects.requireNonNull(pluginsDirectory, "pluginsDirectory");
        trustedPlugins = Set.copyOf(trustedPlugins);
        Objects.requireNonNull(connector, "connector");
        Objects.requireNonNull(pacing, "pacing");
        Objects.requireNonNull(kvEvents, "kvEvents");
        Objects.requireNonNull(memory, "memory");
    }

    /** Whether the scheduler is asynchronous. */
    public boolean asyncScheduling() {
        return scheduler.asyncScheduling();
    }

    /** What a failed external KV load does. */
    public LoadFailurePolicy loadFailurePolicy() {
        return scheduler.loadFailurePolicy();
    }

    /** A copy without a connector (the baseline run of a comparison). */
    public EngineConfig withoutConnector() {
        return toBuilder().connector(Optional.empty()).build();
    }

    /** A copy with another connector. */
    public EngineConfig withConnector(Optional<ConnectorEntry> entry) {
        return toBuilder().connector(entry).build();
    }

    /**
     * A builder with the given shape and the defaults of an engine built in code: per-layer KV,
     * verification on, the default cost, no connector, requests that end only at their length cap
     * ({@code eosRate} 0), no pacing, the machine's default host memory budget and no KV memory
     * limit. A configuration file's defaults differ where a served engine wants other values (stop
     * tokens, pacing of loads); {@link EngineConfigReader} documents them.
     */
    public static Builder builder(
            ModelShape model, int blockSize, int gpuBlocks, int workers, SchedulerConfig scheduler) {
        return new Builder(model, blockSize, gpuBlocks, workers, scheduler);
    }

    /** A builder that starts from this configuration. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Builds an {@link EngineConfig}; not thread-safe. Each setter replaces one component. */
    public static final class Builder {
        private ModelShape model;
        private int blockSize;
        private int gpuBlocks;
        private int workers;
        private SchedulerConfig scheduler;
        private LayoutKind kvLayout = LayoutKind.PER_LAYER;
        private boolean verifyKv = true;
        private ModelCost cost = ModelCost.defaults();
        private PluginsDirectory pluginsDirectory = PluginsDirectory.byDefault();
        private Set<String> trustedPlugins = Set.of();
        private Optional<ConnectorEntry> connector = Optional.empty();
        private double eosRate;
        private Pacing pacing = Pacing.OFF;
        private long hostMemoryBudget = HostMemoryBudget.defaultBytes();
        private long kvMemoryLimit = Long.MAX_VALUE;
        private Optional<KvEventsConfig> kvEvents = Optional.empty();
        // Host memory for engines built in code (tests, the kit): no probing of the machine.
        private MemorySelection memory = MemorySelection.HOST;

        private Builder(ModelShape model, int blockSize, int gpuBlocks, int workers, SchedulerConfig scheduler) {
            this.model = model;
            this.blockSize = blockSize;
            this.gpuBlocks = gpuBlocks;
            this.workers = workers;
            this.scheduler = scheduler;
        }

        private Builder(EngineConfig c) {
            this(c.model, c.blockSize, c.gpuBlocks, c.workers, c.scheduler);
            kvLayout = c.kvLayout;
            verifyKv = c.verifyKv;
            cost = c.cost;
            pluginsDirectory = c.pluginsDirectory;
            trustedPlugins = c.trustedPlugins;
            connector = c.connector;
            eosRate = c.eosRate;
            pacing = c.pacing;
            hostMemoryBudget = c.hostMemoryBudget;
            kvMemoryLimit = c.kvMemoryLimit;
            kvEvents = c.kvEvents;
            memory = c.memory;
        }

        /** The model's KV shape. */
        public Builder model(ModelShape m) {
            model = m;
            return this;
        }

        /** Usable KV blocks per worker. */
        public Builder gpuBlocks(int n) {
            gpuBlocks = n;
            return this;
        }

        /** Tensor-parallel workers. */
        public Builder workers(int n) {
            workers = n;
            return this;
        }

        /** Scheduler limits and modes. */
        public Builder scheduler(SchedulerConfig s) {
            scheduler = s;
            return this;
        }

        /** The workers' KV memory layout. */
        public Builder kvLayout(LayoutKind layout) {
            kvLayout = layout;
            return this;
        }

        /** Whether the model checks every KV read. */
        public Builder verifyKv(boolean verify) {
            verifyKv = verify;
            return this;
        }

        /** The modelled compute cost. */
        public Builder cost(ModelCost c) {
            cost = c;
            return this;
        }

        /** The selected connector, if any. */
        public Builder connector(Optional<ConnectorEntry> entry) {
            connector = entry;
            return this;
        }

        /** The probability per sampled position of end-of-sequence, in [0, 1]. */
        public Builder eosRate(double rate) {
            eosRate = rate;
            return this;
        }

        /** Whether steps last their modelled time in wall time. */
        public Builder pacing(Pacing p) {
            pacing = p;
            return this;
        }

        /** Bytes of host memory the connector's workers may take together. */
        public Builder hostMemoryBudget(long bytes) {
            hostMemoryBudget = bytes;
            return this;
        }

        /** Where the engine publishes its KV events; empty for nowhere. */
        public Builder kvEvents(Optional<KvEventsConfig> events) {
            kvEvents = events;
            return this;
        }

        /** Where the KV caches live. */
        public Builder memory(MemorySelection selection) {
            memory = selection;
            return this;
        }

        /** The configuration; the record's constructor checks it. */
        public EngineConfig build() {
            return new EngineConfig(
                    model,
                    blockSize,
                    gpuBlocks,
                    workers,
                    scheduler,
                    kvLayout,
                    verifyKv,
                    cost,
                    pluginsDirectory,
                    trustedPlugins,
                    connector,
                    eosRate,
                    pacing,
                    hostMemoryBudget,
                    kvMemoryLimit,
                    kvEvents,
                    memory);
        }
    }
}
