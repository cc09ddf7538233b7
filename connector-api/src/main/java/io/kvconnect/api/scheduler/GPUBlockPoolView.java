package io.kvconnect.api.scheduler;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.Stability;
import java.util.Optional;

/**
 * A narrow view of the engine's GPU block pool, for connectors that must keep blocks alive
 * beyond their request (a store still reading them) or plan from what is cached.
 *
 * <p><b>Ownership.</b> Each connector instance gets its own view, and the view counts the
 * references this connector took. {@link #touch} takes one reference per id; {@link #free} gives
 * back references this connector took, never more: freeing a block the connector does not hold
 * throws and changes nothing. The engine's own reference counts therefore cannot be corrupted
 * through a view. References still held when the connector shuts down are returned by the engine
 * and reported as a leak.
 *
 * <p><b>Thread.</b> Scheduler thread only, from scheduler-side hooks.
 */
@Stability(Stability.Level.EVOLVING)
public interface GPUBlockPoolView {
    /** Usable blocks in the pool (the null block excluded). */
    int numBlocks();

    /** Blocks that no request or connector holds (cached free blocks included). */
    int numFreeBlocks();

    /**
     * Takes one reference on each block: a free block leaves the free queue, so it is neither
     * evicted nor reallocated until {@link #free}d.
     *
     * @throws IllegalArgumentException if an id is out of range or the null block; then nothing
     *     is touched
     */
    void touch(int... blockIds);

    /**
     * Gives back one reference per id taken earlier with {@link #touch} by this connector. A block
     * whose count reaches zero returns to the free queue (as most recently used), still cached.
     *
     * @throws IllegalStateException if this connector holds fewer references on a block than the
     *     ids name; then nothing is freed
     */
    void free(int... blockIds);

    /**
     * How many references this connector holds on {@code blockId}. The engine takes every
     * reference back from a connector that made no progress for its connector timeout while
     * nothing else ran (or that it disabled), so a connector that frees lazily checks this first.
     */
    int heldReferences(int blockId);

    /** The hash of {@code blockId} if it is cached (its content is a known full block). */
    Optional<BlockHash> cachedHash(int blockId);

    /** Visits every cached block in id order. */
    void forEachCachedBlock(CachedBlockConsumer consumer);
}
