package io.kvconnect.core.kv;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Which GPU blocks a connector may copy, as one worker sees them: the grants as they stood when the
 * step the worker runs was scheduled. Read by the worker's copy service on any thread (the
 * connector's threads, the copy stream); changed only by the worker thread when it begins a step
 * ({@link #apply}, with the changes the engine thread's {@link GrantLedger} collected up to the
 * scheduling of that step), and by the copy stream when a load copy completes ({@link
 * #markLoaded}).
 *
 * <ul>
 *   <li><b>Reads</b> (copies out of the GPU cache): a block must be in use, held by a request or by
 *       the connector's own reference ({@code GPUBlockPoolView.touch}). A free block may hold
 *       anything and may be handed to another request at any step.</li>
 *   <li><b>Writes</b> (copies into the GPU cache): a block must be a load target, a block of the
 *       external range of a request whose load the engine granted and that has not ended.</li>
 *   <li><b>Generations</b>: each block's generation changes whenever it starts or stops being in
 *       use. A copy remembers the generations of its blocks when submitted; if one changed before
 *       the copy runs, the block was freed (and perhaps reused) in a step the worker has begun
 *       since, and the copy fails instead of touching it. So a connector that did not keep a block
 *       alive cannot read another request's KV into its store, nor write into another request's
 *       blocks.</li>
 * </ul>
 *
 * <p>The workers see a change only from the step it belongs to, never while they run an earlier
 * one: whether a copy runs depends on the steps, not on how far the engine thread has got (see
 * {@link GrantLedger}).
 *
 * <p>Generation {@code g} is odd while the block is in use, even while it is free; a load target
 * records the generation it was granted in, so freeing a block ends its grant by itself.
 */
public final class BlockGrants {
    private final AtomicIntegerArray generation;
    /** The generation in which a block was granted as a load target; 0 (never odd) for none. */
    private final AtomicIntegerArray loadTarget;
    /** The generation in which a load copy into a block last completed; 0 (never odd) for none. */
    private final AtomicIntegerArray loadedIn;

    /**
     * Grants for {@code numBlocks} blocks (the null block included), all free: the state of a new
     * {@link GrantLedger}, so that applying every change it hands out, in order, keeps the two
     * equal.
     */
    public BlockGrants(int numBlocks) {
        this.generation = new AtomicIntegerArray(numBlocks);
        this.loadTarget = new AtomicIntegerArray(numBlocks);
        this.loadedIn = new AtomicIntegerArray(numBlocks);
    }

    /**
     * Grants where every block is in use and a load target, for a copy service without a block
     * pool (its own tests, benchmarks of the copy path): only the copy arguments are checked.
     */
    public static BlockGrants everything(int numBlocks) {
        BlockGrants g = new BlockGrants(numBlocks);
        for (int id = 1; id < numBlocks; id++) {
            g.set(id, 1, 1);
        }
        return g;
    }

    /**
     * Worker thread, when it begins a step, before the step's hooks and model run: the grants as of
     * that step's scheduling.
     *
     * @param changes the step's changes, from the ledger these grants started equal to; every
     *     step's changes must be applied, in step order
     */
    public void apply(GrantChanges changes) {
        changes.applyTo(this);
    }

    /** Sets one block's state (from the ledger). */
    void set(int blockId, int gen, int target) {
        // The target first: a reader that sees the new generation sees the target that goes with it.
        loadTarget.set(blockId, target);
        generation.set(blockId, gen);
    }

    /** The block's generation now; odd while in use. Any thread. */
    public int generation(int blockId) {
        return generation.get(blockId);
    }

    /** Whether a connector may copy the block out now. Any thread. */
    public boolean readable(int blockId) {
        return (generation.get(blockId) & 1) == 1;
    }

    /** Whether a connector may copy into the block now. Any thread. */
    public boolean writable(int blockId) {
        int g = generation.get(blockId);
        return (g & 1) == 1 && loadTarget.get(blockId) == g;
    }

    /**
     * The thread that completes a load copy into {@code blockId}, asked for while the block was in
     * generation {@code generation}, completed. It fills the block for that generation only: the
     * worker may begin a step that frees the block and grants it to another request's load while
     * the copy still moves bytes, and that load is not filled by this copy.
     */
    public void markLoaded(int blockId, int generation) {
        loadedIn.set(blockId, generation);
    }

    /**
     * Whether a load copy into {@code blockId} completed since it was last allocated: what the
     * engine checks before a step reads a block a connector said it loaded. Any thread.
     */
    public boolean loaded(int blockId) {
        int g = generation.get(blockId);
        return (g & 1) == 1 && loadedIn.get(blockId) == g;
    }

    /** Blocks covered, the null block included. */
    public int numBlocks() {
        return generation.length();
    }
}
