package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class StorageMediumTest {
    @Test
    void constantsAndCustomNames() {
        assertEquals("GPU", StorageMedium.GPU.name());
        assertEquals("CPU", StorageMedium.CPU.toString());
        assertEquals("DISK", StorageMedium.DISK.name());
        assertEquals(StorageMedium.CPU, new StorageMedium("CPU"));
        assertEquals("REMOTE_TIER_2", new StorageMedium("REMOTE_TIER_2").name());
        assertEquals(32, new StorageMedium("A".repeat(32)).name().length());
    }

    @Test
    void badNamesRejected() {
        for (String bad : List.of("", "cpu", "Cpu", "1CPU", "_CPU", "CPU-2", "CPU ", "A".repeat(33))) {
            assertThrows(IllegalArgumentException.class, () -> new StorageMedium(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> new StorageMedium(null));
    }
}
