package io.kvconnect.testkit.doubles;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.scheduler.CachedBlockConsumer;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One connector's view of a GPU block pool that counts the connector's references as the engine's
 * view does: block ids are {@code 1} to {@link #numBlocks()} (block 0 is the engine's null
 * block), {@link #touch} takes at most the {@linkplain #FakeBlockPool(int, int) cap} of references
 * in all, {@link #free} gives back only references the connector holds, and a refused call changes
 * nothing. The test reads what the connector holds with {@link #heldReferences} and {@link
 * #totalHeld}, and puts blocks into the prefix cache with {@link #cache}.
 *
 * <p>What it leaves out: it knows no requests, so a block is in use only while the connector holds
 * it, and {@link #touch} accepts any block in range, where the engine refuses free blocks that
 * are not cached; and it does not check the calling thread.
 *
 * <p>Not thread-safe: used on the scheduler side's thread, as the engine's view is.
 */
public final class FakeBlockPool implements GPUBlockPoolView {
    private final int numBlocks;
    private final int maxReferences;
    private final Map<Integer, Integer> held = new HashMap<>();
    private final Map<Integer, BlockHash> cached = new TreeMap<>();
    private long totalHeld;
    private long generation;

    /**
     * A pool of {@code numBlocks} usable blocks whose connector may hold at most {@code
     * maxReferences} references at once.
     *
     * @throws IllegalArgumentException if either is not positive
     */
    public FakeBlockPool(int numBlocks, int maxReferences) {
        if (numBlocks < 1 || maxReferences < 1) {
            throw new IllegalArgumentException("need at least one block and one reference, got " + numBlocks
                    + " blocks and " + maxReferences + " references");
        }
        this.numBlocks = numBlocks;
        this.maxReferences = maxReferences;
    }

    /** A pool of {@code numBlocks} usable blocks whose connector may hold one reference per block. */
    public FakeBlockPool(int numBlocks) {
        this(numBlocks, numBlocks);
    }

    /**
     * Puts block {@code blockId} into the prefix cache under {@code hash}, as the engine does once
     * a request computed it: {@link #cachedHash} and {@link #forEachCachedBlock} report it.
     */
    public FakeBlockPool cache(int blockId, BlockHash hash) {
        checkId(blockId);
        cached.put(blockId, Objects.requireNonNull(hash, "hash"));
        return this;
    }

    /**
     * Takes back every reference the connector holds, as the engine does to a connector that made
     * no progress for its connector timeout while nothing else ran, or that it disabled. The blocks
     * may then go to other requests and be touched again by a later store: a connector must not
     * free a reference it lost this way, or it frees the later store's. Changes {@link
     * #referenceGeneration}.
     */
    public void takeBackAll() {
        held.clear();
        totalHeld = 0;
        generation++;
    }

    /** References the connector holds now, over all blocks. */
    public long totalHeld() {
        return totalHeld;
    }

    @Override
    public int numBlocks() {
        return numBlocks;
    }

    /** Blocks the connector holds no reference on: the double knows no requests that could. */
    @Override
    public int numFreeBlocks() {
        return numBlocks - held.size();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if a block id is out of range; nothing is touched
     * @throws IllegalStateException if the references would exceed the cap; nothing is touched
     */
    @Override
    public void touch(int... blockIds) {
        for (int id : blockIds) {
            checkId(id);
        }
        if (totalHeld + blockIds.length > maxReferences) {
            throw new IllegalStateException(
                    "touching " + blockIds.length + " block(s) would hold " + (totalHeld + blockIds.length)
                            + " references, more than the " + maxReferences + " allowed; nothing was "
                            + "touched");
        }
        for (int id : blockIds) {
            held.merge(id, 1, Integer::sum);
        }
        totalHeld += blockIds.length;
    }

    /** The cap minus what the connector holds. */
    @Override
    public int availableReferences() {
        return (int) (maxReferences - totalHeld);
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException if the connector does not hold as many references on a block
     *     as the call gives back; nothing is freed
     */
    @Override
    public void free(int... blockIds) {
        Map<Integer, Integer> wanted = new HashMap<>();
        for (int id : blockIds) {
            wanted.merge(id, 1, Integer::sum);
        }
        wanted.forEach((id, n) -> {
            if (held.getOrDefault(id, 0) < n) {
                throw new IllegalStateException(
                        "the connector does not hold " + n + " reference(s) on block " + id + "; nothing was freed");
            }
        });
        wanted.forEach((id, n) -> held.computeIfPresent(id, (k, v) -> v.equals(n) ? null : v - n));
        totalHeld -= blockIds.length;
    }

    @Override
    public int heldReferences(int blockId) {
        return held.getOrDefault(blockId, 0);
    }

    @Override
    public long referenceGeneration() {
        return generation;
    }

    @Override
    public Optional<BlockHash> cachedHash(int blockId) {
        return Optional.ofNullable(cached.get(blockId));
    }

    /** Every cached block in id order; a block is free when the connector holds no reference on it. */
    @Override
    public void forEachCachedBlock(CachedBlockConsumer consumer) {
        cached.forEach((id, hash) -> consumer.accept(id, hash, heldReferences(id) == 0));
    }

    private void checkId(int id) {
        if (id < 1 || id > numBlocks) {
            throw new IllegalArgumentException(
                    id == 0 ? "block 0 is the null block" : "block id " + id + " is outside [1, " + numBlocks + "]");
        }
    }
}
