package io.kvconnect.core.memory;

import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;

/** Builds the {@link KvLayout} of a host-memory worker from the model and cache sizes. */
public final class KvLayouts {
    private KvLayouts() {}

    /**
     * The layout of rank {@code rank} of {@code tpSize}, with {@code numBlocks} blocks (null block
     * included) of {@code blockSize} tokens in host memory: one block in one layer is
     * {@code blockSize * model.bytesPerTokenPerLayer(tpSize)} bytes.
     *
     * @throws IllegalArgumentException if a size is not positive, the rank is out of range, or a
     *     block does not fit in a {@code long}
     */
    public static KvLayout of(ModelShape model, int rank, int tpSize, int numBlocks, int blockSize, LayoutKind kind) {
        // Checked here, not only by KvLayout, because bytesPerTokenPerLayer divides by tpSize.
        if (tpSize <= 0) {
            throw new IllegalArgumentException("tensor-parallel size must be positive, got " + tpSize);
        }
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        }
        long bytesPerBlockPerLayer;
        try {
            bytesPerBlockPerLayer = Math.multiplyExact(blockSize, model.bytesPerTokenPerLayer(tpSize));
            Math.multiplyExact(bytesPerBlockPerLayer, model.numLayers());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("a block of " + blockSize + " tokens of " + model + " is too large", e);
        }
        return new KvLayout(model, rank, tpSize, numBlocks, blockSize, bytesPerBlockPerLayer, kind, MemoryKind.HOST);
    }
}
