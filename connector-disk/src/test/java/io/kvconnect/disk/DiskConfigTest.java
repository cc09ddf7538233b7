package io.kvconnect.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.testkit.ConnectorConfigs;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DiskConfigTest {
    private static final EngineInfo ENGINE =
            new EngineInfo("e", new ModelShape("m", 2, 2, 16, DType.FP16), 16, 64, 2, false);

    private static ConnectorConfig config(Map<String, ?> values) {
        return ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, values);
    }

    @Test
    void defaultsAndBlocks() {
        ConnectorConfig raw = config(Map.of("directory", "kv", "capacity", "1MiB"));
        DiskConfig c = DiskConfig.parse(raw);
        assertTrue(c.directory().isAbsolute());
        assertEquals(DiskConfig.LoadMode.ASYNC, c.load());
        assertTrue(c.directIo());
        assertFalse(c.fsync());
        assertEquals(64, c.stagingBlocks());
        // A block on one rank: 16 tokens x 2 layers x 64 bytes = 2 KiB, in a file of 8 KiB; two ranks.
        assertEquals((1 << 20) / (2 * 8192), c.blocks(raw, ENGINE));
    }

    @Test
    void errorsNameTheirField() {
        assertTrue(assertThrows(ConfigException.class, () -> DiskConfig.parse(config(Map.of("capacity", "1MiB"))))
                .getMessage()
                .contains("directory"));
        assertTrue(assertThrows(ConfigException.class, () -> DiskConfig.parse(config(Map.of("directory", "kv"))))
                .getMessage()
                .contains("capacity"));
        assertTrue(assertThrows(
                        ConfigException.class,
                        () -> DiskConfig.parse(
                                config(Map.of("directory", "kv", "capacity", "1MiB", "eviction", "lru"))))
                .getMessage()
                .contains("eviction"));
        assertTrue(assertThrows(
                        ConfigException.class,
                        () -> DiskConfig.parse(config(Map.of("directory", "kv", "capacity", "1MiB", "io", "magic"))))
                .getMessage()
                .contains("io"));
        ConnectorConfig tiny = config(Map.of("directory", "kv", "capacity", "8KiB"));
        assertTrue(
                assertThrows(ConfigException.class, () -> DiskConfig.parse(tiny).blocks(tiny, ENGINE))
                        .getMessage()
                        .contains("hold no block"));
    }
}
