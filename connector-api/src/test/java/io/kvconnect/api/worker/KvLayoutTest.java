package io.kvconnect.api.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import org.junit.jupiter.api.Test;

class KvLayoutTest {
    private static final ModelShape MODEL = new ModelShape("m", 32, 8, 128, DType.FP16);

    private static KvLayout layout(int rank, int size, int numBlocks, int blockSize, long bytesPerBlockPerLayer) {
        return new KvLayout(
                MODEL, rank, size, numBlocks, blockSize, bytesPerBlockPerLayer, LayoutKind.PER_LAYER, MemoryKind.HOST);
    }

    @Test
    void bytesPerBlockIsPerLayerTimesLayers() {
        var l = layout(0, 1, 100, 16, 65_536);
        assertEquals(32, l.numLayers());
        assertEquals(65_536L * 32, l.bytesPerBlock());
    }

    @Test
    void bytesPerBlockDoesNotOverflowInt() {
        assertEquals(3_000_000_000L * 32, layout(0, 1, 2, 16, 3_000_000_000L).bytesPerBlock());
    }

    @Test
    void rankMustBeWithinSize() {
        layout(3, 4, 2, 16, 1);
        assertThrows(IllegalArgumentException.class, () -> layout(4, 4, 2, 16, 1));
        assertThrows(IllegalArgumentException.class, () -> layout(-1, 4, 2, 16, 1));
        assertThrows(IllegalArgumentException.class, () -> layout(0, 0, 2, 16, 1));
    }

    @Test
    void needsAtLeastTwoBlocksAndPositiveSizes() {
        assertThrows(IllegalArgumentException.class, () -> layout(0, 1, 1, 16, 1));
        assertThrows(IllegalArgumentException.class, () -> layout(0, 1, 2, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> layout(0, 1, 2, 16, 0));
    }

    @Test
    void nullsRejected() {
        assertThrows(
                NullPointerException.class,
                () -> new KvLayout(null, 0, 1, 2, 16, 1, LayoutKind.CROSS_LAYER, MemoryKind.HOST));
        assertThrows(NullPointerException.class, () -> new KvLayout(MODEL, 0, 1, 2, 16, 1, null, MemoryKind.HOST));
        assertThrows(
                NullPointerException.class, () -> new KvLayout(MODEL, 0, 1, 2, 16, 1, LayoutKind.CROSS_LAYER, null));
    }
}
