package io.kvconnect.core.kv;

import static io.kvconnect.core.kv.BlockRecords.GENERATION;
import static io.kvconnect.core.kv.BlockRecords.IS_CHANGED;
import static io.kvconnect.core.kv.BlockRecords.LOAD_TARGET;
import static io.kvconnect.core.kv.BlockRecords.at;

/**
 * The engine thread's record of which GPU blocks connectors may copy: written by the block pool
 * (a block starts or stops being in use) and the scheduler (a load is granted or ends), as its
 * decisions are made. The workers do not read it: they copy by their own {@link BlockGrants},
 * to which each applies, when it begins a step, the changes {@link #takeChanges(long)} collected up
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
    /**
     * Per block, in the record it shares with the pool (see {@link BlockRecords} for why): its
     * generation; the generation in which it was granted as a load target (0, never odd, for none);
     * and whether it is in {@link #changed}.
     */
    private final int[] state;

    /** Blocks changed since the last {@link #takeChanges()}, each once. */
    private final int[] changed;

    private int numChanged;

    /** What {@link #takeChanges(long)} fills, one per step parity. */
    private final GrantChanges[] byParity = {
        new GrantChanges(GrantChanges.ANY_STEP), new GrantChanges(GrantChanges.ANY_STEP)
    };

    /**
     * A ledger over the blocks of {@code records}, a table of {@link BlockRecords} shared with the
     * pool: all free, none granted.
     */
    GrantLedger(int[] records) {
        state = records;
        changed = new int[BlockRecords.numBlocks(records)];
    }

    /** The block went from no reference to one. */
    void inUse(int blockId) {
        state[at(blockId, GENERATION)]++;
        changed(blockId);
    }

    /** The block's last reference was given back: it is no longer readable, and its load grant ends. */
    void freed(int blockId) {
        state[at(blockId, GENERATION)]++;
        changed(blockId);
    }

    /** A granted load may write {@code blockId} (in use) until it ends or the block is freed. */
    public void grantLoad(int blockId) {
        state[at(blockId, LOAD_TARGET)] = state[at(blockId, GENERATION)];
        changed(blockId);
    }

    /** The load into {@code blockId} ended. */
    public void endLoad(int blockId) {
        if (state[at(blockId, LOAD_TARGET)] != 0) {
            state[at(blockId, LOAD_TARGET)] = 0;
            changed(blockId);
        }
    }

    /** Whether a connector may copy the block out, as the engine thread has decided so far. */
    public boolean readable(int blockId) {
        return (state[at(blockId, GENERATION)] & 1) == 1;
    }

    /** Whether a connector may copy into the block, as the engine thread has decided so far. */
    public boolean writable(int blockId) {
        int g = state[at(blockId, GENERATION)];
        return (g & 1) == 1 && state[at(blockId, LOAD_TARGET)] == g;
    }

    /** Blocks covered, the null block included. */
    public int numBlocks() {
        return changed.length;
    }

    /**
     * The state of every block changed since the last call, for the workers to apply when they
     * begin the step being scheduled, in an object of its own (for tests and tools that keep it).
     */
    public GrantChanges takeChanges() {
        return numChanged == 0
                ? GrantChanges.NONE
                : fill(new GrantChanges(GrantChanges.ANY_STEP), GrantChanges.ANY_STEP);
    }

    /**
     * {@link #takeChanges()} for {@code step}, in this ledger's object of that step's parity: it is
     * refilled when the step after next takes its changes (see {@link GrantChanges}). Called once
     * per step, when its scheduling is complete.
     */
    public GrantChanges takeChanges(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("a step is at least 0, got " + step);
        }
        return numChanged == 0 ? GrantChanges.NONE : fill(byParity[(int) (step & 1)], step);
    }

    private GrantChanges fill(GrantChanges c, long step) {
        c.refill(step, numChanged);
        for (int i = 0; i < numChanged; i++) {
            int id = changed[i];
            c.set(i, id, state[at(id, GENERATION)], state[at(id, LOAD_TARGET)]);
            state[at(id, IS_CHANGED)] = 0;
        }
        numChanged = 0;
        return c;
    }

    private void changed(int blockId) {
        if (state[at(blockId, IS_CHANGED)] == 0) {
            state[at(blockId, IS_CHANGED)] = 1;
            changed[numChanged++] = blockId;
        }
    }
}
