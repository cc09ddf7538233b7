package io.kvconnect.multi;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.scheduler.CachedBlockConsumer;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import java.util.Optional;

/**
 * One child's view of the GPU block pool: it goes through the composite's own view (the engine
 * counts references per connector, and the composite is one connector), and additionally counts
 * the references this child took, so children's touches stay apart.
 *
 * <p>Without it, one child could {@link #free} a reference a sibling took with {@link #touch}, and a
 * block the sibling's store still reads could be reallocated. Here freeing more than this child
 * holds throws {@link IllegalStateException} and changes nothing, exactly as the engine's view
 * does for a connector on its own. References the engine takes back from the composite (a connector
 * that made no progress for its timeout) are no longer this child's either (see {@link
 * ChildReferences}). References a child still holds at shutdown stay with the
 * composite's view, so the engine returns them and reports the leak. Scheduler thread only.
 */
final class ChildPoolView implements GPUBlockPoolView {
    private final ChildReferences references;
    private final GPUBlockPoolView shared;
    private final int index;
    private final String child;

    ChildPoolView(ChildReferences references, int index, String child) {
        this.references = references;
        this.shared = references.engine();
        this.index = index;
        this.child = child;
    }

    @Override
    public int numBlocks() {
        return shared.numBlocks();
    }

    @Override
    public int numFreeBlocks() {
        return shared.numFreeBlocks();
    }

    /** Touches through the composite's view (which validates and is all-or-nothing), then counts. */
    @Override
    public void touch(int... blockIds) {
        references.touch(index, blockIds);
    }

    /** The composite's: the engine caps the references of the composite, which its children share. */
    @Override
    public int availableReferences() {
        return shared.availableReferences();
    }

    /**
     * Frees references this child took.
     *
     * @throws IllegalStateException if the child holds fewer references on a block than the ids
     *     name; then nothing is freed
     */
    @Override
    public void free(int... blockIds) {
        references.free(index, child, blockIds);
    }

    /** What this child took and the engine did not take back from the composite since. */
    @Override
    public int heldReferences(int blockId) {
        return references.held(index, blockId);
    }

    /**
     * The composite's: the engine takes back the references of the composite, which are all its
     * children's at once.
     */
    @Override
    public long referenceGeneration() {
        return shared.referenceGeneration();
    }

    /** Through this child's {@link #free}, not the composite's: the child's references are its own. */
    @Override
    public boolean freeIfNotTakenBack(long generation, int... blockIds) {
        return GPUBlockPoolView.super.freeIfNotTakenBack(generation, blockIds);
    }

    @Override
    public Optional<BlockHash> cachedHash(int blockId) {
        return shared.cachedHash(blockId);
    }

    @Override
    public void forEachCachedBlock(CachedBlockConsumer consumer) {
        shared.forEachCachedBlock(consumer);
    }

    /** References this child holds in total (for tests and messages). */
    long totalHeld() {
        return references.total(index);
    }
}
