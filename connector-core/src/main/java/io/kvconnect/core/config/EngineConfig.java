package io.kvconnect.core.config;

import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.model.ModelCost;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.SchedulerConfig;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The engine's validated configuration, read by {@link EngineConfigReader}.
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
 * @param pluginsDirectory where to look for plugin jars
 * @param trustedPlugins module names of the plugins in the plugins directory that may use the JDK
 *     modules only trusted plugins may use ({@code jdk.unsupported} and the like); empty by default
 * @param connector the selected connector, if any
 * @param eosRate the probability per sampled position that the model samples end-of-sequence
 * @param pacing whether steps last their modelled time in wall time
 * @param hostMemoryBudget bytes of host memory the connector may take through {@code
 *     BlockCopyService.allocateHostBuffer}, all workers together
 * @param kvMemoryLimit bytes the KV cache of all workers may take together; the reader refused a
 *     configuration whose cache is larger
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
        Path pluginsDirectory,
        Set<String> trustedPlugins,
        Optional<ConnectorEntry> connector,
        double eosRate,
        Pacing pacing,
        long hostMemoryBudget,
        long kvMemoryLimit) {

    /** Checks for nulls; ranges are checked by the reader, which knows the field paths. */
    public EngineConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(kvLayout, "kvLayout");
        Objects.requireNonNull(cost, "cost");
        Objects.requireNonNull(pluginsDirectory, "pluginsDirectory");
        trustedPlugins = Set.copyOf(trustedPlugins);
        Objects.requireNonNull(connector, "connector");
        Objects.requireNonNull(pacing, "pacing");
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
        return withConnector(Optional.empty());
    }

    /** A copy with another connector. */
    public EngineConfig withConnector(Optional<ConnectorEntry> entry) {
        return new EngineConfig(model, blockSize, gpuBlocks, workers, scheduler, kvLayout, verifyKv, cost,
                pluginsDirectory, trustedPlugins, entry, eosRate, pacing, hostMemoryBudget, kvMemoryLimit);
    }
}
