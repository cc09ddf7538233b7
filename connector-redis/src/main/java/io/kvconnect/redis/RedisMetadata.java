package io.kvconnect.redis;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorMetadata;
import java.util.List;

/**
 * One step's orders from the scheduler side to every worker. Immutable: the lists and arrays are
 * copied on construction and never written afterwards.
 *
 * @param stores blocks to copy out of the KV cache after the step's compute and write to Redis
 * @param loads blocks to read from Redis and copy into the KV cache
 */
record RedisMetadata(List<StoreJob> stores, List<LoadJob> loads) implements ConnectorMetadata {
    static final RedisMetadata EMPTY = new RedisMetadata(List.of(), List.of());

    RedisMetadata {
        stores = List.copyOf(stores);
        loads = List.copyOf(loads);
    }

    /**
     * Store GPU blocks {@code gpuBlocks[i]} under {@code keys[i]}.
     *
     * @param id the job id the workers report
     */
    record StoreJob(long id, List<BlockHash> keys, int[] gpuBlocks) {
        StoreJob {
            keys = List.copyOf(keys);
            gpuBlocks = gpuBlocks.clone();
            if (keys.size() != gpuBlocks.length || keys.isEmpty()) {
                throw new IllegalArgumentException("a store needs one key per block, at least one");
            }
        }
    }

    /**
     * Load the values of {@code keys[i]} into GPU blocks {@code gpuBlocks[i]}; always asynchronous
     * (the request is reported in finished receives).
     *
     * @param id the job id the workers report
     * @param requestId the request the blocks belong to
     * @param cancelled whether nothing may be loaded: every block is reported as a load error
     */
    record LoadJob(long id, String requestId, List<BlockHash> keys, int[] gpuBlocks, boolean cancelled) {
        LoadJob {
            keys = List.copyOf(keys);
            gpuBlocks = gpuBlocks.clone();
            if (!cancelled && keys.size() != gpuBlocks.length) {
                throw new IllegalArgumentException("a load needs one key per block");
            }
        }
    }
}
