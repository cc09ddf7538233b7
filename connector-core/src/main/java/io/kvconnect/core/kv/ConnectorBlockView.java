package io.kvconnect.core.kv;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.scheduler.CachedBlockConsumer;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One connector's view of the GPU block pool. It counts the references this connector took, so a
 * connector can never free a reference it does not hold, and the engine can return (and report)
 * references still held when the connector shuts down.
 *
 * <p><b>What a connector may hold.</b> {@link #touch} takes references only on blocks that are in
 * use (a request or the connector holds them) or cached (they hold a known full block): a free,
 * uncached block holds nothing a connector could want, and taking it would only take it away from
 * the engine. And a connector holds at most {@link #maxReferences()} references in all (engine key
 * {@value #MAX_REFERENCES_KEY}); by default half the usable blocks (see {@link
 * #defaultMaxReferences}). A connector that touched every block, or never freed what it touched,
 * used to leave the engine without free blocks, waiting silently; now its touch fails with the
 * cap in the message while the engine keeps the rest of the pool.
 *
 * <p><b>Thread.</b> The pool is not thread-safe, so every method of {@link GPUBlockPoolView} first
 * checks that it runs on the engine thread the view was bound to (the thread that builds the
 * scheduler and runs every scheduler-side hook) and throws {@link IllegalStateException} before
 * touching the pool otherwise: a connector calling it from a thread of its own gets an error, not a
 * corrupted pool. The engine's own methods here ({@link #totalHeld}, {@link #releaseAll}, ...) run
 * on the engine thread too.
 */
public final class ConnectorBlockView implements GPUBlockPoolView {
    /** The engine configuration key of {@link #maxReferences()}, named in the error of a touch beyond it. */
    public static final String MAX_REFERENCES_KEY = "connector_block_references";
    /**
     * The largest cap that may be configured. With at most this many references from the connector
     * and far fewer from requests, no block's reference count can overflow an {@code int}.
     */
    public static final int MAX_REFERENCES_LIMIT = 1 << 30;

    private final BlockPool pool;
    private final Thread engineThread;
    private final long maxReferences;
    private final int[] held;
    private long totalHeld;
    /** Bumped by every {@link #releaseAll}; see {@link GPUBlockPoolView#referenceGeneration}. */
    private long generation;

    /**
     * A view of {@code pool} for one connector instance, used on {@code engineThread} only.
     *
     * @param maxReferences the most references the connector may hold at once, in {@code [1,
     *     MAX_REFERENCES_LIMIT]}; empty for {@link #defaultMaxReferences} of the pool
     * @param engineThread the thread that runs the scheduler-side hooks, the only one allowed to
     *     call the view
     * @throws IllegalArgumentException if the cap is out of range
     */
    public ConnectorBlockView(BlockPool pool, OptionalInt maxReferences, Thread engineThread) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.engineThread = Objects.requireNonNull(engineThread, "engineThread");
        int cap = maxReferences.orElse(defaultMaxReferences(pool.usableBlocks()));
        if (cap < 1 || cap > MAX_REFERENCES_LIMIT) {
            throw new IllegalArgumentException(
                    MAX_REFERENCES_KEY + " must be in [1, " + MAX_REFERENCES_LIMIT + "], got " + cap);
        }
        this.maxReferences = cap;
        this.held = new int[pool.numBlocks()];
    }

    /** A view with the default cap, bound to the calling thread. */
    public ConnectorBlockView(BlockPool pool) {
        this(pool, OptionalInt.empty(), Thread.currentThread());
    }

    /**
     * The default cap: half the usable blocks, at least 1. The bundled connectors hold references
     * only on the blocks a copy in flight reads, a small part of the pool; a connector that holds
     * more than half of it leaves running requests too few blocks to progress, and one that holds
     * all of it stops the engine. Half keeps the other half for requests whatever the connector
     * does, and is far above what a connector that frees its references needs.
     */
    public static int defaultMaxReferences(int usableBlocks) {
        return Math.max(1, usableBlocks / 2);
    }

    /** The most references the connector may hold at once. */
    public long maxReferences() {
        return maxReferences;
    }

    @Override
    public int numBlocks() {
        checkThread();
        return pool.usableBlocks();
    }

    @Override
    public int numFreeBlocks() {
        checkThread();
        return pool.numFreeBlocks();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException also if a block is free and not cached
     * @throws IllegalStateException if the references would exceed {@link #maxReferences()}, or
     *     off the engine thread; then nothing is touched
     */
    @Override
    public void touch(int... blockIds) {
        checkThread();
        // Validate the whole call first, so that a refused call changes nothing.
        for (int id : blockIds) {
            checkId(id);
        }
        for (int id : blockIds) {
            if (pool.refCount(id) == 0 && pool.hashOf(id) == null) {
                throw new IllegalArgumentException("block " + id + " is free and not cached: a connector may touch "
                        + "only blocks in use or cached; nothing was touched");
            }
        }
        if (totalHeld + blockIds.length > maxReferences) {
            throw new IllegalStateException("connector would hold " + (totalHeld + blockIds.length) + " GPU block "
                    + "references, more than its cap of " + maxReferences + " (engine key " + MAX_REFERENCES_KEY
                    + "); it holds " + totalHeld + " and must free some first; nothing was touched");
        }
        for (int id : blockIds) {
            pool.touch(id);
            held[id]++;
            totalHeld++;
        }
    }

    @Override
    public int availableReferences() {
        checkThread();
        return (int) (maxReferences - totalHeld);
    }

    @Override
    public void free(int... blockIds) {
        checkThread();
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
                throw new IllegalStateException("connector frees block " + id + " " + times + " time(s) but holds "
                        + held[id] + " reference(s) on it");
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
        checkThread();
        checkId(blockId);
        return held[blockId];
    }

    @Override
    public Optional<BlockHash> cachedHash(int blockId) {
        checkThread();
        checkId(blockId);
        return pool.cachedHash(blockId);
    }

    @Override
    public void forEachCachedBlock(CachedBlockConsumer consumer) {
        checkThread();
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
        // Even if nothing was held: a connector compares generations, not counts.
        generation++;
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

    @Override
    public long referenceGeneration() {
        checkThread();
        return generation;
    }

    private void checkThread() {
        Thread caller = Thread.currentThread();
        if (caller != engineThread) {
            throw new IllegalStateException("GPUBlockPoolView may be used only on the engine thread ("
                    + engineThread.getName() + "); called from " + caller.getName());
        }
    }

    private void checkId(int id) {
        if (id <= 0 || id >= held.length) {
            throw new IllegalArgumentException(
                    id == 0 ? "block 0 is the null block" : "block id " + id + " is outside [1, " + held.length + ")");
        }
    }
}
