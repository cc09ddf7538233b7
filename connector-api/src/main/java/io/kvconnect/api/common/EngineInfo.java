package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.util.Objects;

/**
 * Facts about the engine a connector is plugged into; fixed for the engine's lifetime.
 *
 * <p>The scheduler side, which gets no {@code KvLayout}, sizes a tier from these: one block takes
 * {@code blockSize * model().bytesPerTokenPerLayer(tensorParallelSize) * model().numLayers()} bytes
 * on each worker (its {@code KvLayout.bytesPerBlock()}, the size of one host-buffer slot), and
 * {@code tensorParallelSize} times that across all workers.
 *
 * @param engineId unique id of this engine instance (a prefill and a decode engine differ)
 * @param model the model's KV shape
 * @param blockSize tokens per KV block
 * @param numGpuBlocks usable blocks in the engine's KV pool on each worker (the null block excluded)
 * @param tensorParallelSize number of workers (ranks); each has its own worker-side connector
 * @param asyncScheduling whether the next step is scheduled before the previous step's output is
 *     processed; then {@code RequestView.numOutputPlaceholders()} may be non-zero
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public record EngineInfo(
        String engineId,
        ModelShape model,
        int blockSize,
        int numGpuBlocks,
        int tensorParallelSize,
        boolean asyncScheduling) {

    /** Validates the sizes. */
    public EngineInfo {
        Objects.requireNonNull(engineId, "engineId");
        Objects.requireNonNull(model, "model");
        if (blockSize <= 0 || numGpuBlocks <= 0 || tensorParallelSize <= 0) {
            throw new IllegalArgumentException("block size, GPU blocks and tensor-parallel size must be positive");
        }
    }
}
