package io.kvconnect.core.kv;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.scheduler.CachedBlockConsumer;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import java.util.Optional;

/**
 * One connector's view of the GPU block pool. It counts the references this connector took, so a
 * connector can never free a reference it does not hold, and the engine can return (and report)
 * references still held when the connector shuts down.
 *
 * <p>Scheduler thread only, like the pool.
 */
public final class ConnectorBlockView implements GPUBlockPoolView {
    private final BlockPool pool;
    private final int[] held;
    private long totalHeld;

    /** A view of {@code pool} for one connector instance. */
    public ConnectorBlockView(BlockPool pool) {
        this.pool = pool;
        this.held = new int[pool.numBlocks()];
    }

    @Override
    public int numBlocks() {
        return pool.usableBlocks();
    }

    @Override
    public int numFreeBlocks() {
        return pool.numFreeBlocks();
    }

    @Override
    public void touch(int... blockIds) {
        for (int id : blockIds) {
            checkId(id);
        }
        for (int id : blockIds) {
            pool.touch(id);
            held[id]++;
            totalHeld++;
        }
    }

    @Override
    public void free(int... blockIds) {
        // Validate the whole call first (an id may repeat) so that a bad call changes nothing.
        for (int i = 0; i < blockIds.length; i++) {
            int id = blockIds[i];
            checkId(id);
            int times = 0;
            for (int j = 0; j <= i; j++) {
                if (blockIds[j] == id) {
                    times++;
                }
            }
            if (times > held[id]) {
                throw new IllegalStateException("connector frees block " + id + " " + times
                        + " time(s) but holds " + held[id] + " reference(s) on it");
            }
        }
        for (int id : blockIds) {
            held[id]--;
            totalHeld--;
            pool.free(id);
        }
    }

    @Override
    public int heldReferences(int blockId) {
        checkId(blockId);
        return held[blockId];
    }

    @Override
    public Optional<BlockHash> cachedHash(int blockId) {
        checkId(blockId);
        return pool.cachedHash(blockId);
    }

    @Override
    public void forEachCachedBlock(CachedBlockConsumer consumer) {
        pool.forEachCached(consumer::accept);
    }

    /** References this connector holds in total. */
    public long totalHeld() {
        return totalHeld;
    }

    /** References this connector holds on {@code blockId}, for the engine's invariant checks. */
    int held(int blockId) {
        return held[blockId];
    }

    /** The blocks this connector holds at least one reference on, in id order. */
    public int[] heldBlocks() {
        int n = 0;
        for (int id = 1; id < held.length; id++) {
            if (held[id] > 0) {
                n++;
            }
        }
        int[] ids = new int[n];
        n = 0;
        for (int id = 1; id < held.length; id++) {
            if (held[id] > 0) {
                ids[n++] = id;
            }
        }
        return ids;
    }

    /**
     * Returns every reference still held (the connector shut down or was disabled).
     *
     * @return how many references were returned (a leak if non-zero)
     */
    public long releaseAll() {
        long released = 0;
        for (int id = 1; id < held.length; id++) {
            while (held[id] > 0) {
                held[id]--;
                pool.free(id);
                released++;
            }
        }
        totalHeld = 0;
        return released;
    }

    private void checkId(int id) {
        if (id <= 0 || id >= held.length) {
            throw new IllegalArgumentException(id == 0 ? "block 0 is the null block"
                    : "block id " + id + " is outside [1, " + held.length + ")");
        }
    }
}
