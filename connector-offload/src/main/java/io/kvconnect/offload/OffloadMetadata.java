package io.kvconnect.offload;

import io.kvconnect.api.common.ConnectorMetadata;
import java.util.List;
import java.util.Set;

/**
 * One step's orders from the scheduler side to every worker. Immutable: the arrays are copied on
 * construction and never written afterwards.
 *
 * @param step the engine step
 * @param stores GPU-to-host copies to start after the step's compute
 * @param loads host-to-GPU copies to start before the step's compute
 * @param fence preempted requests whose copies must be finished before the step reuses memory
 */
record OffloadMetadata(long step, List<StoreJob> stores, List<LoadJob> loads, Set<String> fence)
        implements ConnectorMetadata {
    static final OffloadMetadata EMPTY = new OffloadMetadata(-1, List.of(), List.of(), Set.of());

    OffloadMetadata {
        stores = List.copyOf(stores);
        loads = List.copyOf(loads);
        fence = Set.copyOf(fence);
    }

    /**
     * Copy GPU blocks {@code gpuBlocks[i]} into host slots {@code slots[i]}.
     *
     * @param id the job id the workers report
     * @param requestId the request whose blocks are read
     */
    record StoreJob(long id, String requestId, int[] gpuBlocks, int[] slots) {
        StoreJob {
            gpuBlocks = gpuBlocks.clone();
            slots = slots.clone();
            if (gpuBlocks.length != slots.length || gpuBlocks.length == 0) {
                throw new IllegalArgumentException("a store needs as many slots as blocks, at least one");
            }
        }
    }

    /**
     * Copy host slots {@code slots[i]} into GPU blocks {@code gpuBlocks[i]}.
     *
     * @param id the job id the workers report
     * @param requestId the request the blocks belong to
     * @param async whether the request waits for remote KV (then reported in finished receives)
     * @param cancelled whether nothing may be copied: every block is reported as a load error
     */
    record LoadJob(long id, String requestId, boolean async, int[] slots, int[] gpuBlocks, boolean cancelled) {
        LoadJob {
            gpuBlocks = gpuBlocks.clone();
            slots = slots.clone();
            if (gpuBlocks.length != slots.length) {
                throw new IllegalArgumentException("a load needs as many slots as blocks");
            }
        }
    }
}
