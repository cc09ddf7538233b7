package io.kvconnect.offload;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/** Configuration: defaults, sizing and errors that name the key and the allowed values. */
class OffloadConfigTest {
    static final ModelShape TINY = new ModelShape("tiny", 2, 2, 16, DType.FP16);

    private static ConnectorConfig cfg(Map<String, ?> values) {
        return ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, values);
    }

    @Test
    void defaultsAndSizing() {
        OffloadConfig c = OffloadConfig.parse(cfg(Map.of("capacity", "1MiB")));
        assertEquals(1 << 20, c.capacityBytes());
        assertEquals(OffloadConfig.Eviction.LRU, c.eviction());
        assertEquals(OffloadConfig.LoadMode.ASYNC, c.load());
        assertEquals(0, c.storeThreshold());
        // tiny: 16 tokens x 2 layers x 128 bytes = 4096 bytes per block across all workers.
        EngineInfo one = new EngineInfo("e", TINY, 16, 100, 1, false);
        EngineInfo two = new EngineInfo("e", TINY, 16, 100, 2, false);
        assertEquals(4096, OffloadConfig.bytesPerBlockAllWorkers(one));
        assertEquals(256, c.slots(cfg(Map.of()), one));
        assertEquals(256, c.slots(cfg(Map.of()), two), "capacity is the total across workers");
        OffloadConfig all = OffloadConfig.parse(cfg(Map.of(
                "capacity", 8192L, "eviction", "ARC", "load", "sync", "store_threshold", 2L, "block_multiple", 1L)));
        assertEquals(OffloadConfig.Eviction.ARC, all.eviction());
        assertEquals(OffloadConfig.LoadMode.SYNC, all.load());
        assertEquals(2, all.storeThreshold());
    }

    @Test
    void errorsNameTheKey() {
        assertError(Map.of(), "config.connector.config.capacity", "is required");
        assertError(Map.of("capacity", "1MiB", "capcity", "1"), "config.connector.config.capcity", "allowed keys");
        assertError(Map.of("capacity", "lots"), "config.connector.config.capacity", "byte size");
        assertError(
                Map.of("capacity", "1MiB", "block_multiple", 0L),
                "config.connector.config.block_multiple",
                "[1, 1024]");
        assertError(
                Map.of("capacity", "1MiB", "block_multiple", 1025L),
                "config.connector.config.block_multiple",
                "[1, 1024]");
        assertError(Map.of("capacity", "1MiB", "eviction", "fifo"), "config.connector.config.eviction", "lru, arc");
        assertError(Map.of("capacity", "1MiB", "load", "lazy"), "config.connector.config.load", "async, sync");
        assertError(
                Map.of("capacity", "1MiB", "store_threshold", -1L), "config.connector.config.store_threshold", "[0,");
        OffloadConfig small = OffloadConfig.parse(cfg(Map.of("capacity", "4000")));
        ConfigException e = assertThrows(
                ConfigException.class, () -> small.slots(cfg(Map.of()), new EngineInfo("e", TINY, 16, 100, 1, false)));
        assertEquals("config.connector.config.capacity", e.path());
        assertTrue(e.getMessage().contains("at least 4096"), e.getMessage());
        OffloadConfig fourBlocks = OffloadConfig.parse(cfg(Map.of("capacity", "16KiB", "block_multiple", 8L)));
        e = assertThrows(
                ConfigException.class,
                () -> fourBlocks.slots(cfg(Map.of()), new EngineInfo("e", TINY, 16, 100, 1, false)));
        assertTrue(e.getMessage().contains("at least 32768"), e.getMessage());
    }

    @Test
    void aBlockMultipleDividesTheCapacityIntoLargerBlocks() {
        OffloadConfig c = OffloadConfig.parse(cfg(Map.of("capacity", "1MiB", "block_multiple", 4L)));
        assertEquals(4, c.blockMultiple());
        assertEquals(
                64, c.slots(cfg(Map.of()), new EngineInfo("e", TINY, 16, 100, 2, false)), "1 MiB / (4 x 4096 bytes)");
    }

    private static void assertError(Map<String, ?> values, String path, String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> OffloadConfig.parse(cfg(values)));
        assertEquals(path, e.path());
        assertTrue(e.getMessage().contains(text), e.getMessage());
    }
}
