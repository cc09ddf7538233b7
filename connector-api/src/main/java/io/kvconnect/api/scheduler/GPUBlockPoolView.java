package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;
import io.kvconnect.api.common.BlockHash;
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
 * and reported as a leak. When a block id is valid and why a connector touches a finished
 * request's last blocks in {@code requestFinished} is in {@code docs/connector-lifecycle.md}.
 *
 * <p><b>Limits.</b> A connector may {@link #touch} only blocks that are in use or cached, and may
 * hold at most a number of references the engine's operator sets (by default half the usable
 * blocks): the engine keeps enough of its pool to serve requests whatever a connector does.
 *
 * <p><b>Thread.</b> Engine (scheduler) thread only, from scheduler-side hooks: the pool is not
 * thread-safe. Every method checks the calling thread and, called from another thread (a
 * connector's own threads included), throws {@link IllegalStateException} ("GPUBlockPoolView may
 * be used only on the engine thread (<i>engine thread</i>); called from <i>thread</i>") before it
 * reads or changes anything. A connector whose own thread learns that a block may be freed hands
 * that over to its next scheduler-side hook.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface GPUBlockPoolView {
    /** {@return the number of usable blocks in the pool (the null block excluded)} */
    int numBlocks();

    /** {@return the number of blocks that no request or connector holds (cached free blocks included)} */
    int numFreeBlocks();

    /**
     * Takes one reference on each block: a free block leaves the free queue, so it is neither
     * evicted nor reallocated until {@link #free}d.
     *
     * <p>Only blocks in use (a request or this connector holds a reference) or cached (their
     * {@link #cachedHash} is present: they hold a known full block) may be touched; a free block
     * that is not cached holds nothing a connector could need. And a connector holds at most the
     * engine's cap of references at once (engine key {@code connector_block_references}, by
     * default half the usable blocks), counting every reference it took and has not freed.
     *
     * @param blockIds the blocks; an id named twice takes two references
     * @throws IllegalArgumentException if an id is out of range or the null block, or names a
     *     block that is free and not cached; then nothing is touched
     * @throws IllegalStateException if the references this connector would hold exceed the cap
     *     (the message names it and its configuration key), or if called off the engine thread;
     *     then nothing is touched
     */
    void touch(int... blockIds);

    /**
     * {@return how many more references this connector may take with {@link #touch} now} That is
     * the engine's cap less the references it holds. A connector that keeps blocks alive for its copies (a store in
     * flight) checks it and leaves the rest of the work for a later step, when copies finished and
     * their references were freed, rather than have {@code touch} refuse it. Implementations
     * without a cap return {@link Integer#MAX_VALUE}.
     *
     * @throws IllegalStateException if called off the engine thread
     */
    default int availableReferences() {
        return Integer.MAX_VALUE;
    }

    /**
     * Gives back one reference per id taken earlier with {@link #touch} by this connector. A block
     * whose count reaches zero returns to the free queue (as most recently used), still cached.
     *
     * @param blockIds the blocks; an id named twice gives back two references
     * @throws IllegalStateException if this connector holds fewer references on a block than the
     *     ids name, or if called off the engine thread; then nothing is freed
     */
    void free(int... blockIds);

    /**
     * {@return how many references this connector holds on {@code blockId}} The engine takes every
     * reference back from a connector that made no progress for its connector timeout while
     * nothing else ran (or that it disabled); see {@link #referenceGeneration} for how a connector
     * that frees when a copy ends tells its own references from those taken back.
     *
     * @param blockId a GPU block id
     * @throws IllegalStateException if called off the engine thread
     */
    int heldReferences(int blockId);

    /**
     * {@return the generation of this connector's references: it changes each time the engine takes
     * every reference back} The engine does that to a connector that made no progress for its
     * connector timeout while nothing else ran, or that it disabled. The blocks may then go to
     * other requests, and a later copy of the same connector may touch one again. A connector that
     * frees a copy's references when the copy ends reads this before it touches them and frees
     * them only if it is still the same ({@link #freeIfNotTakenBack}): otherwise the references are gone, and a {@link #free} would
     * either throw or give back the later copy's reference while that copy still reads the block.
     *
     * <p>The default is for views that never take references back (test doubles): always 0.
     *
     * @throws IllegalStateException if called off the engine thread
     */
    default long referenceGeneration() {
        return 0;
    }

    /**
     * Gives back references this connector took with {@link #touch} while {@link
     * #referenceGeneration} was {@code generation}, unless the engine has taken its references back
     * since: then they are no longer this connector's, and nothing is freed. The one rule every
     * connector that frees a copy's references when the copy ends follows.
     *
     * @param generation {@link #referenceGeneration} as read before the touch
     * @param blockIds the blocks, as given to {@link #free}
     * @return whether they were freed; {@code false} when the engine had taken them back
     * @throws IllegalStateException as {@link #free}
     */
    default boolean freeIfNotTakenBack(long generation, int... blockIds) {
        if (referenceGeneration() != generation) {
            return false;
        }
        free(blockIds);
        return true;
    }

    /**
     * {@return the hash of {@code blockId} if it is cached (its content is a known full block)}
     *
     * @param blockId a GPU block id
     * @throws IllegalStateException if called off the engine thread
     */
    Optional<BlockHash> cachedHash(int blockId);

    /**
     * Visits every cached block in id order.
     *
     * @param consumer called once per cached block, on this thread, before this method returns
     * @throws IllegalStateException if called off the engine thread
     */
    void forEachCachedBlock(CachedBlockConsumer consumer);
}
