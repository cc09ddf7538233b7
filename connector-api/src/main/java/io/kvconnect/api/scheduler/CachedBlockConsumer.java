package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;
import io.kvconnect.api.common.BlockHash;

/** Receives cached GPU blocks from {@link GPUBlockPoolView#forEachCachedBlock}. */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
@FunctionalInterface
public interface CachedBlockConsumer {
    /**
     * Called once per cached block, on the scheduler thread.
     *
     * @param blockId the GPU block id
     * @param hash the block's hash
     * @param free whether no request and no connector holds the block (it may be evicted by the next
     *     allocation)
     */
    void accept(int blockId, BlockHash hash, boolean free);
}
