package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BlockIdsTest {
    @Test
    void mutatingTheInputDoesNotChangeIt() {
        int[] ids = {3, 4, 5};
        var b = BlockIds.of(ids);
        ids[0] = 99;
        assertEquals(3, b.get(0));

        int[] g1 = {7};
        var groups = BlockIds.ofGroups(new int[] {1}, g1);
        g1[0] = 99;
        assertEquals(7, groups.get(1, 0));
    }

    @Test
    void mutatingToArrayDoesNotChangeIt() {
        var b = BlockIds.ofGroups(new int[] {1, 2}, new int[] {3});
        b.toArray()[0] = 99;
        b.toArray(1)[0] = 99;
        assertArrayEquals(new int[] {1, 2}, b.toArray());
        assertArrayEquals(new int[] {3}, b.toArray(1));
    }

    @Test
    void singleGroupAccessors() {
        var b = BlockIds.of(3, 4);
        assertEquals(1, b.groupCount());
        assertEquals(2, b.size());
        assertEquals(2, b.size(0));
        assertEquals(4, b.get(1));
        assertEquals(4, b.get(0, 1));
        assertFalse(b.isEmpty());
        assertEquals("[3, 4]", b.toString());
    }

    @Test
    void groupsAreIndependent() {
        var b = BlockIds.ofGroups(new int[] {1, 2, 3}, new int[] {}, new int[] {9});
        assertEquals(3, b.groupCount());
        assertEquals(3, b.size(0));
        assertEquals(0, b.size(1));
        assertEquals(9, b.get(2, 0));
        assertFalse(b.isEmpty());
        assertTrue(BlockIds.ofGroups(new int[0], new int[0]).isEmpty());
    }

    @Test
    void emptyIsOneEmptyGroup() {
        var e = BlockIds.empty();
        assertTrue(e.isEmpty());
        assertEquals(1, e.groupCount());
        assertEquals(e, BlockIds.of());
        assertEquals(e, BlockIds.ofGroups(new int[0]));
    }

    @Test
    void emptyLikeKeepsGroupCount() {
        var three =
                BlockIds.ofGroups(new int[] {1}, new int[] {2}, new int[] {3}).emptyLike();
        assertEquals(3, three.groupCount());
        assertTrue(three.isEmpty());
        assertEquals(BlockIds.empty(), BlockIds.of(5).emptyLike());
    }

    @Test
    void equalsAndHashCodeByContent() {
        var a = BlockIds.ofGroups(new int[] {1, 2}, new int[] {3});
        var b = BlockIds.ofGroups(new int[] {1, 2}, new int[] {3});
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, BlockIds.ofGroups(new int[] {1, 2}, new int[] {4}));
        assertNotEquals(BlockIds.of(1, 2), BlockIds.of(2, 1));
        assertNotEquals(BlockIds.empty(), BlockIds.ofGroups(new int[0], new int[0]));
    }

    @Test
    void zeroGroupsRejected() {
        assertThrows(IllegalArgumentException.class, () -> BlockIds.ofGroups());
    }
}
