package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.util.Objects;

/**
 * The shape of a model as far as its KV cache is concerned.
 *
 * @param name a label such as {@code "llama-3-8b"}, used in compatibility checks and reports
 * @param numLayers attention layers holding KV
 * @param numKvHeads key/value heads across all tensor-parallel ranks
 * @param headDim elements per head
 * @param dtype element type of the cache
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public record ModelShape(String name, int numLayers, int numKvHeads, int headDim, DType dtype) {
    /** Validates that every size is positive. */
    public ModelShape {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        if (numLayers <= 0 || numKvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("layers, KV heads and head dim must be positive, got layers=" + numLayers
                    + ", kv_heads=" + numKvHeads + ", head_dim=" + headDim);
        }
    }

    /**
     * {@return the number of bytes of K and V for one token in one layer on one rank} Each rank
     * holds {@code numKvHeads / tensorParallelSize} heads, at least one.
     *
     * @param tensorParallelSize the number of ranks the heads are split over, positive
     */
    public long bytesPerTokenPerLayer(int tensorParallelSize) {
        int headsPerRank = Math.max(1, numKvHeads / tensorParallelSize);
        return 2L * headsPerRank * headDim * dtype.bytes();
    }
}
