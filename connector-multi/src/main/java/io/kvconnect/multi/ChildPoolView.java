package io.kvconnect.multi;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.scheduler.CachedBlockConsumer;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One child's view of the GPU block pool: it goes through the composite's own view (the engine
 * counts references per connector, and the composite is one connector), and additionally counts
 * the references this child took, so children's touches stay apart.
 *
 * <p>Without it, one child could {@link #free} a reference a sibling took with {@link #touch}, and a
 * block the sibling's store still reads could be reallocated. Here freeing more than this child
 * holds throws {@link IllegalStateException} and changes nothing, exactly as the engine's view
 * does for a connector on its own. References a child still holds at shutdown stay with the
 * composite's view, so the engine returns them and reports the leak. Scheduler thread only.
 */
final class ChildPoolView implements GPUBlockPoolView {
    private final GPUBlockPoolView shared;
    private final String child;
    private final Map<Integer, Integer> held = new HashMap<>();

    ChildPoolView(GPUBlockPoolView shared, String child) {
        this.shared = shared;
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
        shared.touch(blockIds);
        for (int id : blockIds) {
            held.merge(id, 1, Integer::sum);
        }
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
        Map<Integer, Integer> wanted = new HashMap<>();
        for (int id : blockIds) {
            wanted.merge(id, 1, Integer::sum);
        }
        for (Map.Entry<Integer, Integer> e : wanted.entrySet()) {
            int mine = held.getOrDefault(e.getKey(), 0);
            if (mine < e.getValue()) {
                throw new IllegalStateException("child connector " + child + " holds " + mine
                        + " reference(s) on GPU block " + e.getKey() + " but tried to free " + e.getValue()
                        + "; nothing was freed");
            }
        }
        shared.free(blockIds);
        wanted.forEach((id, n) -> held.computeIfPresent(id, (k, v) -> v.equals(n) ? null : v - n));
    }

    @Override
    public int heldReferences(int blockId) {
        return held.getOrDefault(blockId, 0);
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
    int totalHeld() {
        return held.values().stream().mapToInt(Integer::intValue).sum();
    }
}
