package io.kvconnect.core.kv;

import java.util.Arrays;

/**
 * What the engine thread changed in the block grants while it scheduled one step: the latest
 * generation and load grant of every block that changed since the previous step, taken by {@link
 * GrantLedger#takeChanges(long)} and applied by each worker to its own {@link BlockGrants} when it
 * begins that step. Shared by the workers, who only read it.
 *
 * <p><b>Reused by the ledger.</b> The ledger keeps one object per step parity and refills it when
 * it takes the changes of the step after next: a step of 256 decoding requests changes about 32
 * blocks, and three fresh arrays for them every step were a fifth of the step's garbage. That is
 * safe for the same reason the scheduler's work entries are reused: a step's output is read until
 * the step is applied, and the scheduler plans at most one step ahead of the last applied one.
 * Each object knows the step it was filled for ({@link #step()}), and the step's output refuses to
 * hand out changes filled for another step. Until refilled it does not change.
 */
public final class GrantChanges {
    /** {@link #step()} of changes that belong to any step: {@link #NONE} and owned ones. */
    public static final long ANY_STEP = -1;

    /** No change. */
    public static final GrantChanges NONE = new GrantChanges(ANY_STEP);

    private static final int[] EMPTY = new int[0];

    /** Per change {@code i}: the block at {@code 3i}, its generation at {@code 3i + 1}, its load target at {@code 3i + 2}. */
    private int[] changes = EMPTY;

    private int size;
    private long step;

    GrantChanges(long step) {
        this.step = step;
    }

    /** Starts filling these changes anew for {@code step}, with room for {@code n} changes. */
    void refill(long step, int n) {
        if (3 * n > changes.length) {
            changes = new int[Math.max(3 * n, 2 * changes.length)];
        }
        this.step = step;
        size = n;
    }

    /** Sets change {@code i}: block {@code blockId} is now at {@code generation}, load target {@code loadTarget}. */
    void set(int i, int blockId, int generation, int loadTarget) {
        changes[3 * i] = blockId;
        changes[3 * i + 1] = generation;
        changes[3 * i + 2] = loadTarget;
    }

    /** The step these changes were filled for, or {@link #ANY_STEP}. */
    public long step() {
        return step;
    }

    /** Blocks whose grants changed. */
    public int size() {
        return size;
    }

    /** Sets each changed block of {@code grants} to its new state. */
    void applyTo(BlockGrants grants) {
        for (int i = 0; i < size; i++) {
            grants.set(changes[3 * i], changes[3 * i + 1], changes[3 * i + 2]);
        }
    }

    @Override
    public String toString() {
        return "GrantChanges[" + size + " block(s)"
                + (step == ANY_STEP ? "" : " of step " + step)
                + (size <= 4 ? " " + Arrays.toString(Arrays.copyOf(changes, 3 * size)) : "")
                + "]";
    }
}
