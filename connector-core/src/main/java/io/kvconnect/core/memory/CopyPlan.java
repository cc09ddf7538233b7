package io.kvconnect.core.memory;

import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import java.util.Arrays;

/**
 * A batch copy as runs of adjacent blocks: blocks {@code b, b+1, ...} to (or from) slots {@code s,
 * s+1, ...} form one run, and one run is one copy where the layout allows. Built on the calling
 * thread from the already checked arrays, read by the copy stream; immutable.
 *
 * <p>Copy calls per run: {@link LayoutKind#CROSS_LAYER} one (a run's blocks are contiguous in the
 * cache and its slots contiguous in the host buffer); {@link LayoutKind#PER_LAYER} one per layer
 * (a run of one layer is contiguous in the cache, strided by the slot size in the host buffer: a
 * strided 2D copy on a device, {@code runLength} plain copies on the host). So a batch of N blocks
 * in R runs costs R calls (cross-layer) or R x layers calls (per-layer, device), whatever N is.
 */
record CopyPlan(int[] firstBlocks, int[] firstSlots, int[] lengths) {
    CopyPlan {
        if (firstBlocks.length != firstSlots.length || firstBlocks.length != lengths.length) {
            throw new IllegalArgumentException("runs disagree in length");
        }
    }

    /**
     * The runs of {@code blockIds[i] -> slots[i]} in the order given; a block or slot that does
     * not continue the run before it starts a new one (no sorting: the caller's order is the copy
     * order, and a copy out may name a block twice).
     */
    static CopyPlan of(int[] blockIds, int[] slots) {
        if (blockIds.length != slots.length) {
            throw new IllegalArgumentException(blockIds.length + " block ids but " + slots.length + " slots");
        }
        int n = blockIds.length;
        int[] blocks = new int[n];
        int[] slotStarts = new int[n];
        int[] lengths = new int[n];
        int runs = 0;
        for (int i = 0; i < n; i++) {
            if (runs > 0 && blockIds[i] == blockIds[i - 1] + 1 && slots[i] == slots[i - 1] + 1) {
                lengths[runs - 1]++;
            } else {
                blocks[runs] = blockIds[i];
                slotStarts[runs] = slots[i];
                lengths[runs] = 1;
                runs++;
            }
        }
        return new CopyPlan(Arrays.copyOf(blocks, runs), Arrays.copyOf(slotStarts, runs), Arrays.copyOf(lengths, runs));
    }

    /** The number of runs. */
    int runs() {
        return lengths.length;
    }

    /** The blocks the plan names. */
    int blocks() {
        int sum = 0;
        for (int length : lengths) {
            sum += length;
        }
        return sum;
    }

    /**
     * Copy calls a device makes for this plan in {@code layout}: one per run, times the layers for
     * {@link LayoutKind#PER_LAYER} (one strided copy per layer and run).
     */
    long deviceCopyCalls(KvLayout layout) {
        return layout.layout() == LayoutKind.CROSS_LAYER ? runs() : (long) runs() * layout.numLayers();
    }

    /**
     * Copy calls the host makes for this plan in {@code layout}: one per run with {@link
     * LayoutKind#CROSS_LAYER}; one per block and layer with {@link LayoutKind#PER_LAYER} (the host
     * side of a per-layer run is strided and {@code MemorySegment.copy} copies one span).
     */
    long hostCopyCalls(KvLayout layout) {
        return layout.layout() == LayoutKind.CROSS_LAYER ? runs() : (long) blocks() * layout.numLayers();
    }
}
