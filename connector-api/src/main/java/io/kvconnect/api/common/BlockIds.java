package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.util.Arrays;

/**
 * GPU block ids of one request, one list per KV-cache group (one group unless the model mixes
 * attention types). Immutable: the constructor and {@link #toArray} copy.
 *
 * <p>Ids index the engine's KV memory; they are meaningful only inside the engine that issued
 * them, and only while the request owns the blocks. Block 0 is the engine's null block and never
 * appears here.
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public final class BlockIds {
    private static final BlockIds EMPTY_ONE_GROUP = new BlockIds(new int[][] {new int[0]});

    private final int[][] groups;

    private BlockIds(int[][] groups) {
        this.groups = groups;
    }

    /**
     * {@return the block ids of a single-group model}
     *
     * @param ids the ids, in block order (copied)
     */
    public static BlockIds of(int... ids) {
        return ids.length == 0 ? EMPTY_ONE_GROUP : new BlockIds(new int[][] {ids.clone()});
    }

    /**
     * {@return block ids with one array per group}
     *
     * @param groups each group's ids, in block order (copied); at least one group
     * @throws IllegalArgumentException if there is no group
     */
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

    /** {@return no blocks, one group} */
    public static BlockIds empty() {
        return EMPTY_ONE_GROUP;
    }

    /** {@return the number of KV-cache groups} */
    public int groupCount() {
        return groups.length;
    }

    /**
     * {@return the number of blocks in group {@code group}}
     *
     * @param group a group index, {@code 0 <= group < groupCount()}
     */
    public int size(int group) {
        return groups[group].length;
    }

    /** {@return the number of blocks in group 0} */
    public int size() {
        return groups[0].length;
    }

    /**
     * {@return the {@code index}-th block id of group {@code group}}
     *
     * @param group a group index, {@code 0 <= group < groupCount()}
     * @param index a block index, {@code 0 <= index < size(group)}
     */
    public int get(int group, int index) {
        return groups[group][index];
    }

    /**
     * {@return the {@code index}-th block id of group 0}
     *
     * @param index a block index, {@code 0 <= index < size()}
     */
    public int get(int index) {
        return groups[0][index];
    }

    /** {@return whether every group is empty} */
    public boolean isEmpty() {
        for (int[] g : groups) {
            if (g.length > 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@return a copy of group {@code group}'s ids}
     *
     * @param group a group index, {@code 0 <= group < groupCount()}
     */
    public int[] toArray(int group) {
        return groups[group].clone();
    }

    /** {@return a copy of group 0's ids} */
    public int[] toArray() {
        return groups[0].clone();
    }

    /** {@return empty block ids with the same number of groups} */
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
