package io.kvconnect.api.common;

import java.util.Arrays;

/**
 * GPU block ids of one request, one list per KV-cache group (one group unless the model mixes
 * attention types). Immutable: the constructor and {@link #toArray} copy.
 *
 * <p>Ids index the engine's KV memory; they are meaningful only inside the engine that issued
 * them, and only while the request owns the blocks. Block 0 is the engine's null block and never
 * appears here.
 */
@Stability(Stability.Level.STABLE)
public final class BlockIds {
    private static final BlockIds EMPTY_ONE_GROUP = new BlockIds(new int[][] {new int[0]});

    private final int[][] groups;

    private BlockIds(int[][] groups) {
        this.groups = groups;
    }

    /** Block ids of a single-group model (copied). */
    public static BlockIds of(int... ids) {
        return ids.length == 0 ? EMPTY_ONE_GROUP : new BlockIds(new int[][] {ids.clone()});
    }

    /** Block ids with one array per group (copied); at least one group. */
    public static BlockIds ofGroups(int[]... groups) {
        if (groups.length == 0) {
            throw new IllegalArgumentException("at least one KV-cache group is required");
        }
        int[][] copy = new int[groups.length][];
        for (int g = 0; g < groups.length; g++) {
            copy[g] = groups[g].clone();
        }
        return new BlockIds(copy);
    }

    /** No blocks, one group. */
    public static BlockIds empty() {
        return EMPTY_ONE_GROUP;
    }

    /** Number of KV-cache groups. */
    public int groupCount() {
        return groups.length;
    }

    /** Number of blocks in group {@code group}. */
    public int size(int group) {
        return groups[group].length;
    }

    /** Number of blocks in group 0. */
    public int size() {
        return groups[0].length;
    }

    /** The {@code index}-th block id of group {@code group}. */
    public int get(int group, int index) {
        return groups[group][index];
    }

    /** The {@code index}-th block id of group 0. */
    public int get(int index) {
        return groups[0][index];
    }

    /** Whether every group is empty. */
    public boolean isEmpty() {
        for (int[] g : groups) {
            if (g.length > 0) {
                return false;
            }
        }
        return true;
    }

    /** A copy of group {@code group}'s ids. */
    public int[] toArray(int group) {
        return groups[group].clone();
    }

    /** A copy of group 0's ids. */
    public int[] toArray() {
        return groups[0].clone();
    }

    /** Empty block ids with the same number of groups. */
    public BlockIds emptyLike() {
        return groups.length == 1 ? EMPTY_ONE_GROUP : new BlockIds(new int[groups.length][0]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlockIds other && Arrays.deepEquals(groups, other.groups);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(groups);
    }

    @Override
    public String toString() {
        return groups.length == 1 ? Arrays.toString(groups[0]) : Arrays.deepToString(groups);
    }
}
