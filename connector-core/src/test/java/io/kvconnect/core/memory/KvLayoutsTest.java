package io.kvconnect.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import org.junit.jupiter.api.Test;

class KvLayoutsTest {
    @Test
    void sizesComeFromTheModelAndTheRanksShareOfHeads() {
        ModelShape model = new ModelShape("m", 4, 8, 64, DType.BF16);

        KvLayout layout = KvLayouts.of(model, 1, 2, 100, 16, LayoutKind.CROSS_LAYER);

        // 4 heads per rank x 64 x 2 B x (K and V) = 1024 B per token per layer.
        assertEquals(16 * 1024L, layout.bytesPerBlockPerLayer());
        assertEquals(4 * 16 * 1024L, layout.bytesPerBlock());
        assertEquals(new KvLayout(model, 1, 2, 100, 16, 16 * 1024L, LayoutKind.CROSS_LAYER, MemoryKind.HOST), layout);
    }

    @Test
    void badSizesAreRefused() {
        ModelShape model = KvTestSupport.TINY;
        assertThrows(IllegalArgumentException.class, () -> KvLayouts.of(model, 0, 0, 8, 4, LayoutKind.PER_LAYER));
        assertThrows(IllegalArgumentException.class, () -> KvLayouts.of(model, 0, 1, 8, 0, LayoutKind.PER_LAYER));
        assertThrows(IllegalArgumentException.class, () -> KvLayouts.of(model, 2, 2, 8, 4, LayoutKind.PER_LAYER));
        assertThrows(IllegalArgumentException.class, () -> KvLayouts.of(model, 0, 1, 1, 4, LayoutKind.PER_LAYER));
    }
}
