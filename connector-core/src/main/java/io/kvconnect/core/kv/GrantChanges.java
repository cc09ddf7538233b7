package io.kvconnect.core.kv;

/**
 * What the engine thread changed in the block grants while it scheduled one step: the latest
 * generation and load grant of every block that changed since the previous step, taken by {@link
 * GrantLedger#takeChanges()} and applied by each worker to its own {@link BlockGrants} when it
 * begins that step. Immutable; shared by the workers.
 */
public final class GrantChanges {
    /** No change. */
    public static final GrantChanges NONE = new GrantChanges(new int[0], new int[0], new int[0]);

    private final int[] blocks;
    private final int[] generations;
    private final int[] loadTargets;

    /** The arrays are owned by the new object (the ledger builds them for it alone). */
    GrantChanges(int[] blocks, int[] generations, int[] loadTargets) {
        this.blocks = blocks;
        this.generations = generations;
        this.loadTargets = loadTargets;
    }

    /** Blocks whose grants changed. */
    public int size() {
        return blocks.length;
    }

    /** Sets each changed block of {@code grants} to its new state. */
    void applyTo(BlockGrants grants) {
        for (int i = 0; i < blocks.length; i++) {
            grants.set(blocks[i], generations[i], loadTargets[i]);
        }
    }

    @Override
    public String toString() {
        return "GrantChanges[" + blocks.length + " block(s)]";
    }
}
