package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;
import io.kvconnect.api.common.ModelShape;
import java.util.Objects;

/**
 * The shape of one worker's KV cache, given to {@link WorkerConnector#registerKvCaches}.
 *
 * <p>The canonical form of one block, used by every host buffer the {@link BlockCopyService}
 * fills, is {@link #bytesPerBlock()} bytes: for each layer in order, that layer's
 * {@link #bytesPerBlockPerLayer()} bytes, token-major (each token's K and V together, token 0
 * first). Two workers with equal layouts produce byte-identical blocks for equal content, so
 * blocks can move between engines.
 *
 * @param model the model's KV shape
 * @param tensorParallelRank this worker's rank
 * @param tensorParallelSize number of ranks; each holds {@code numKvHeads / size} heads, at least
 *     one
 * @param numBlocks blocks in this worker's cache, including the null block 0
 * @param blockSize tokens per block
 * @param bytesPerBlockPerLayer bytes of one block in one layer on this rank
 * @param layout how the cache is arranged
 * @param memory where it lives
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public record KvLayout(
        ModelShape model,
        int tensorParallelRank,
        int tensorParallelSize,
        int numBlocks,
        int blockSize,
        long bytesPerBlockPerLayer,
        LayoutKind layout,
        MemoryKind memory) {

    /** Validates. */
    public KvLayout {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(memory, "memory");
        if (tensorParallelSize <= 0 || tensorParallelRank < 0 || tensorParallelRank >= tensorParallelSize) {
            throw new IllegalArgumentException(
                    "rank " + tensorParallelRank + " not in [0, " + tensorParallelSize + ")");
        }
        if (numBlocks < 2 || blockSize <= 0 || bytesPerBlockPerLayer <= 0) {
            throw new IllegalArgumentException("need at least 2 blocks and positive sizes");
        }
    }

    /** {@return the number of layers} */
    public int numLayers() {
        return model.numLayers();
    }

    /** {@return the number of bytes of one block across all layers: the size of one host-buffer slot} */
    public long bytesPerBlock() {
        return bytesPerBlockPerLayer * model.numLayers();
    }
}
