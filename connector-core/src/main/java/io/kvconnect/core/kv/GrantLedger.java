package io.kvconnect.core.kv;

/**
 * The engine thread's record of which GPU blocks connectors may copy: written by the block pool
 * (a block starts or stops being in use) and the scheduler (a load is granted or ends), as its
 * decisions are made. The workers do not read it: they copy by their own {@link BlockGrants},
 * to which each applies, when it begins a step, the changes {@link #takeChanges()} collected up
 * to the scheduling of that step.
 *
 * <p>Why not one shared record: under asynchronous scheduling the engine thread schedules step
 * N+1 (preempting, freeing, granting) while the workers still run step N. Had the workers read
 * those changes as they were made, whether a copy of step N ran or was refused would depend on
 * which thread got there first, and so would everything that follows from a failed load. Through
 * the ledger, a worker judges step N's copies by the grants as step N was scheduled, whatever the
 * engine thread does meanwhile; that is also what a GPU's in-order stream would see. A change
 * made while applying step N's output (after step N+1 was scheduled) reaches the workers with the
 * next step scheduled.
 *
 * <p>Generations follow {@link BlockGrants}: odd while a block is in use, even while it is free;
 * a load target records the generation it was granted in.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
public final class GrantLedger {
    private static final int STRIDE = 4;
    private static final int GENERATION = 0;
    private static final int LOAD_TARGET = 1;
    private static final int IS_CHANGED = 2;

    /**
     * Per block, side by side: its generation; the generation in which it was granted as a load
     * target (0, never odd, for none); and whether it is in {@link #changed}. One record per block
     * rather than one array per field: the pool tells the ledger of every block it allocates or
     * frees, and in a large pool each array would be a cache miss of its own on that path.
     */
    private final int[] state;

    /** Blocks changed since the last {@link #takeChanges()}, each once. */
    private final int[] changed;

    private int numChanged;

    /** A ledger for {@code numBlocks} blocks (the null block included), all free, none granted. */
    public GrantLedger(int numBlocks) {
        state = new int[Math.multiplyExact(numBlocks, STRIDE)];
        changed = new int[numBlocks];
    }

    /** The block went from no reference to one. */
    void inUse(int blockId) {
        state[blockId * STRIDE + GENERATION]++;
        changed(blockId);
    }

    /** The block's last reference was given back: it is no longer readable, and its load grant ends. */
    void freed(int blockId) {
        state[blockId * STRIDE + GENERATION]++;
        changed(blockId);
    }

    /** A granted load may write {@code blockId} (in use) until it ends or the block is freed. */
    public void grantLoad(int blockId) {
        state[blockId * STRIDE + LOAD_TARGET] = state[blockId * STRIDE + GENERATION];
        changed(blockId);
    }

    /** The load into {@code blockId} ended. */
    public void endLoad(int blockId) {
        if (state[blockId * STRIDE + LOAD_TARGET] != 0) {
            state[blockId * STRIDE + LOAD_TARGET] = 0;
            changed(blockId);
        }
    }

    /** Whether a connector may copy the block out, as the engine thread has decided so far. */
    public boolean readable(int blockId) {
        return (state[blockId * STRIDE + GENERATION] & 1) == 1;
    }

    /** Whether a connector may copy into the block, as the engine thread has decided so far. */
    public boolean writable(int blockId) {
        int g = state[blockId * STRIDE + GENERATION];
        return (g & 1) == 1 && state[blockId * STRIDE + LOAD_TARGET] == g;
    }

    /** Blocks covered, the null block included. */
    public int numBlocks() {
        return changed.length;
    }

    /**
     * The state of every block changed since the last call, for the workers to apply when they
     * begin the step being scheduled. Called once per step, when its scheduling is complete.
     */
    public GrantChanges takeChanges() {
        if (numChanged == 0) {
            return GrantChanges.NONE;
        }
        int[] blocks = new int[numChanged];
        int[] generations = new int[numChanged];
        int[] targets = new int[numChanged];
        for (int i = 0; i < numChanged; i++) {
            int id = changed[i];
            blocks[i] = id;
            generations[i] = state[id * STRIDE + GENERATION];
            targets[i] = state[id * STRIDE + LOAD_TARGET];
            state[id * STRIDE + IS_CHANGED] = 0;
        }
        numChanged = 0;
        return new GrantChanges(blocks, generations, targets);
    }

    private void changed(int blockId) {
        if (state[blockId * STRIDE + IS_CHANGED] == 0) {
            state[blockId * STRIDE + IS_CHANGED] = 1;
            changed[numChanged++] = blockId;
        }
    }
}
