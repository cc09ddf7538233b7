package io.kvconnect.core.memory;

import io.kvconnect.api.common.ModelShape;
import java.util.Objects;

/**
 * The size of an engine's KV cache, computed from its configuration before anything is allocated:
 * each of {@code workers} workers holds {@code blocksPerWorker} blocks (the null block included) of
 * {@code bytesPerBlock} bytes (its share of the KV heads, every layer). Sizes that do not fit in a
 * {@code long} saturate at {@link Long#MAX_VALUE}, which no limit admits.
 *
 * @param workers tensor-parallel workers
 * @param blocksPerWorker blocks in each worker's cache, the null block included
 * @param bytesPerBlock bytes of one block on one worker, every layer
 */
public record KvCacheSize(int workers, long blocksPerWorker, long bytesPerBlock) {
    /** Checks. */
    public KvCacheSize {
        if (workers < 1 || blocksPerWorker < 1 || bytesPerBlock < 1) {
            throw new IllegalArgumentException("workers, blocks and bytes per block must be positive");
        }
    }

    /** The cache of {@code gpuBlocks} usable blocks of {@code blockSize} tokens per worker. */
    public static KvCacheSize of(ModelShape model, int blockSize, int gpuBlocks, int workers) {
        Objects.requireNonNull(model, "model");
        long perLayer = ByteSizes.saturatedProduct(blockSize, model.bytesPerTokenPerLayer(workers));
        return new KvCacheSize(workers, gpuBlocks + 1L, ByteSizes.saturatedProduct(perLayer, model.numLayers()));
    }

    /** Bytes of one worker's cache. */
    public long perWorkerBytes() {
        return ByteSizes.saturatedProduct(blocksPerWorker, bytesPerBlock);
    }

    /** Bytes of every worker's cache together. */
    public long totalBytes() {
        return ByteSizes.saturatedProduct(perWorkerBytes(), workers);
    }

    /** The most usable blocks per worker whose cache fits in {@code limitBytes} (0 if not even one). */
    public long maxBlocksPerWorkerWithin(long limitBytes) {
        long perBlockAllWorkers = ByteSizes.saturatedProduct(bytesPerBlock, workers);
        return Math.max(0, limitBytes / perBlockAllWorkers - 1);
    }

    /** {@code "64 workers x 16777217 blocks x 64.0 KiB = 64.0 TiB"}. */
    public String describe() {
        return workers + " worker(s) x " + blocksPerWorker + " blocks x " + ByteSizes.format(bytesPerBlock) + " = "
                + ByteSizes.format(totalBytes());
    }
}
