package io.kvconnect.redis;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.scheduler.CachedBlockConsumer;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.testkit.doubles.FakeBlockPool;
import java.util.Arrays;
import java.util.Optional;

/**
 * The engine's view of one connector's GPU block references ({@link FakeBlockPool}: it refuses to
 * free a reference the connector does not hold), plus what the engine does to a connector that
 * made no progress for its connector timeout while nothing else ran: {@link #takeBackAll} takes
 * every reference back, after which the blocks may go to other requests and be touched again.
 * Scheduler thread only, as the engine's view.
 */
final class TakingBackPool implements GPUBlockPoolView {
    private final FakeBlockPool pool;

    /** A view of {@code numBlocks} usable blocks without a cap on the connector's references. */
    TakingBackPool(int numBlocks) {
        this.pool = new FakeBlockPool(numBlocks, Integer.MAX_VALUE);
    }

    /** Takes back every reference the connector holds, as the engine's liveness check does. */
    void takeBackAll() {
        for (int id = 1; id <= pool.numBlocks(); id++) {
            int held = pool.heldReferences(id);
            if (held > 0) {
                int[] ids = new int[held];
                Arrays.fill(ids, id);
                pool.free(ids);
            }
        }
    }

    /** {@return the references the connector holds now, over all blocks} */
    long totalHeld() {
        return pool.totalHeld();
    }

    @Override
    public int numBlocks() {
        return pool.numBlocks();
    }

    @Override
    public int numFreeBlocks() {
        return pool.numFreeBlocks();
    }

    @Override
    public void touch(int... blockIds) {
        pool.touch(blockIds);
    }

    @Override
    public int availableReferences() {
        return pool.availableReferences();
    }

    @Override
    public void free(int... blockIds) {
        pool.free(blockIds);
    }

    @Override
    public int heldReferences(int blockId) {
        return pool.heldReferences(blockId);
    }

    @Override
    public Optional<BlockHash> cachedHash(int blockId) {
        return pool.cachedHash(blockId);
    }

    @Override
    public void forEachCachedBlock(CachedBlockConsumer consumer) {
        pool.forEachCachedBlock(consumer);
    }
}
