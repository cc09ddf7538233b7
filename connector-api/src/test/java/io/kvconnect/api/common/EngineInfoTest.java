package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class EngineInfoTest {
    private static final ModelShape MODEL = new ModelShape("m", 2, 2, 64, DType.FP16);

    @Test
    void validInfoKeepsItsFields() {
        var info = new EngineInfo("prefill-0", MODEL, 16, 1000, 2, true);
        assertEquals("prefill-0", info.engineId());
        assertEquals(MODEL, info.model());
        assertEquals(16, info.blockSize());
        assertEquals(1000, info.numGpuBlocks());
        assertEquals(2, info.tensorParallelSize());
    }

    @Test
    void nonPositiveSizesRejected() {
        assertThrows(IllegalArgumentException.class, () -> new EngineInfo("e", MODEL, 0, 1000, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new EngineInfo("e", MODEL, 16, 0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new EngineInfo("e", MODEL, 16, 1000, 0, false));
    }

    @Test
    void nullsRejected() {
        assertThrows(NullPointerException.class, () -> new EngineInfo(null, MODEL, 16, 1000, 1, false));
        assertThrows(NullPointerException.class, () -> new EngineInfo("e", null, 16, 1000, 1, false));
    }
}
