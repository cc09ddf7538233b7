package io.kvconnect.disk;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorMetadata;
import java.util.List;
import java.util.Set;

/**
 * One step's orders from the scheduler side to every worker. Immutable: lists are copied and arrays
 * cloned on construction and never written afterwards.
 *
 * @param step the engine step
 * @param deletes blocks whose files every worker deletes (on its writer thread, before this
 *     step's stores)
 * @param stores blocks to copy from the GPU and write after the step's compute
 * @param loads blocks to read and copy into the GPU
 * @param fence preempted requests whose GPU reads must end before the step reuses memory
 */
record DiskMetadata(long step, List<BlockHash> deletes, List<StoreJob> stores, List<LoadJob> loads, Set<String> fence)
        implements ConnectorMetadata {
    static final DiskMetadata EMPTY = new DiskMetadata(-1, List.of(), List.of(), List.of(), Set.of());

    DiskMetadata {
        deletes = List.copyOf(deletes);
        stores = List.copyOf(stores);
        loads = List.copyOf(loads);
        fence = Set.copyOf(fence);
    }

    /**
     * Write GPU blocks {@code gpuBlocks[i]} as the files of {@code keys[i]}.
     *
     * @param id the job id the workers report
     * @param requestId the request whose blocks are read
     */
    record StoreJob(long id, String requestId, List<BlockHash> keys, int[] gpuBlocks) {
        StoreJob {
            keys = List.copyOf(keys);
            gpuBlocks = gpuBlocks.clone();
            if (gpuBlocks.length != keys.size() || gpuBlocks.length == 0) {
                throw new IllegalArgumentException("a store needs as many keys as blocks, at least one");
            }
        }
    }

    /**
     * Read the files of {@code keys[i]} into GPU blocks {@code gpuBlocks[i]}.
     *
     * @param id the job id the workers report
     * @param requestId the request the blocks belong to
     * @param async whether the request waits for remote KV (then reported in finished receives)
     * @param cancelled whether nothing may be read: every block is reported as a load error
     */
    record LoadJob(long id, String requestId, boolean async, List<BlockHash> keys, int[] gpuBlocks, boolean cancelled) {
        LoadJob {
            keys = List.copyOf(keys);
            gpuBlocks = gpuBlocks.clone();
            if (!cancelled && gpuBlocks.length != keys.size()) {
                throw new IllegalArgumentException("a load needs as many keys as blocks");
            }
        }
    }
}
