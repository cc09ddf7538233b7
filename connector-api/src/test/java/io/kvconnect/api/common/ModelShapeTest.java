package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ModelShapeTest {
    private static final ModelShape LLAMA = new ModelShape("llama-3-8b", 32, 8, 128, DType.BF16);

    @Test
    void bytesPerTokenPerLayerSplitsHeadsAcrossRanks() {
        // K and V: 2 * 8 heads * 128 * 2 bytes
        assertEquals(4096L, LLAMA.bytesPerTokenPerLayer(1));
        assertEquals(1024L, LLAMA.bytesPerTokenPerLayer(4));
        assertEquals(2L * 128 * 4, new ModelShape("m", 1, 1, 128, DType.FP32).bytesPerTokenPerLayer(1));
        assertEquals(2L * 4 * 64, new ModelShape("m", 1, 4, 64, DType.FP8).bytesPerTokenPerLayer(1));
    }

    @Test
    void atLeastOneHeadPerRank() {
        assertEquals(2L * 1 * 128 * 2, LLAMA.bytesPerTokenPerLayer(16));
    }

    @Test
    void nonPositiveSizesAndNullsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ModelShape("m", 0, 8, 128, DType.FP16));
        assertThrows(IllegalArgumentException.class, () -> new ModelShape("m", 32, 0, 128, DType.FP16));
        assertThrows(IllegalArgumentException.class, () -> new ModelShape("m", 32, 8, -1, DType.FP16));
        assertThrows(NullPointerException.class, () -> new ModelShape(null, 32, 8, 128, DType.FP16));
        assertThrows(NullPointerException.class, () -> new ModelShape("m", 32, 8, 128, null));
    }

    @Test
    void modelShapeMessageShowsTheGivenValues() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ModelShape("llama", 32, -1, 128, DType.FP16));
        assertTrue(e.getMessage().contains("kv_heads=-1"), e.getMessage());
    }
}
