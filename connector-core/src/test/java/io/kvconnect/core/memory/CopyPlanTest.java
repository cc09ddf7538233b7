package io.kvconnect.core.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import org.junit.jupiter.api.Test;

class CopyPlanTest {
    private static KvLayout layout(LayoutKind kind) {
        return KvLayouts.of(new ModelShape("t", 4, 2, 16, DType.FP16), 0, 1, 64, 16, kind);
    }

    @Test
    void adjacentBlocksToAdjacentSlotsAreOneRun() {
        CopyPlan plan = CopyPlan.of(new int[] {5, 6, 7, 8}, new int[] {0, 1, 2, 3});

        assertEquals(1, plan.runs());
        assertArrayEquals(new int[] {5}, plan.firstBlocks());
        assertArrayEquals(new int[] {0}, plan.firstSlots());
        assertArrayEquals(new int[] {4}, plan.lengths());
        assertEquals(1, plan.deviceCopyCalls(layout(LayoutKind.CROSS_LAYER)));
        assertEquals(4, plan.deviceCopyCalls(layout(LayoutKind.PER_LAYER)));
        assertEquals(1, plan.hostCopyCalls(layout(LayoutKind.CROSS_LAYER)));
        assertEquals(16, plan.hostCopyCalls(layout(LayoutKind.PER_LAYER)));
    }

    @Test
    void aGapInBlocksOrSlotsOrAReversalStartsANewRun() {
        CopyPlan plan = CopyPlan.of(new int[] {1, 2, 4, 5, 6, 3, 2}, new int[] {0, 1, 2, 3, 5, 6, 7});

        assertArrayEquals(new int[] {1, 4, 6, 3, 2}, plan.firstBlocks());
        assertArrayEquals(new int[] {0, 2, 5, 6, 7}, plan.firstSlots());
        assertArrayEquals(new int[] {2, 2, 1, 1, 1}, plan.lengths());
        assertEquals(7, plan.blocks());
    }

    @Test
    void anEmptyBatchHasNoRuns() {
        assertEquals(0, CopyPlan.of(new int[0], new int[0]).runs());
    }
}
