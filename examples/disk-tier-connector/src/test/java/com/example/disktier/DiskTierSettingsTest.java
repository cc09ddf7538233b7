package com.example.disktier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.testkit.ConnectorConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration: what it accepts, and errors that name the field as operators see them. */
class DiskTierSettingsTest {
    /** Two workers, each block 4 tokens x 2 layers x 64 bytes: a file of 528 bytes per worker. */
    private static final EngineInfo ENGINE = new EngineInfo("test", new ModelShape("m", 2, 2, 16, DType.FP16), 4, 64,
            2, false);

    @TempDir
    Path dir;

    @Test
    void theCapacityIsCountedInBlocksOfAllWorkersFiles() {
        assertEquals(new DiskTierSettings(dir.resolve("kv"), 10),
                settings(Map.of("directory", dir.resolve("kv").toString(), "capacity", 10 * 1056 + 1055)));
        assertTrue(Files.isDirectory(dir.resolve("kv")), "created");
        assertEquals((1 << 30) / 1056, settings(Map.of("directory", dir.toString())).capacityBlocks(), "default 1GiB");
    }

    @Test
    void errorsNameTheField() throws IOException {
        assertError("config.connector.config.directory: is required but missing", Map.of());
        assertError("config.connector.config.directory: must not be blank", Map.of("directory", " "));
        assertError("config.connector.config.capcity: unknown key; allowed keys: [capacity, directory]",
                Map.of("directory", dir.toString(), "capcity", "1GiB"));
        assertError("config.connector.config.capacity: 1000 bytes hold no block: one takes 1056 bytes on disk across "
                + "all workers; allowed: at least 1056 bytes", Map.of("directory", dir.toString(), "capacity", 1000));
        Path file = Files.writeString(dir.resolve("a-file"), "");
        assertError("config.connector.config.directory: cannot create the directory " + file,
                Map.of("directory", file.toString()));
    }

    private static DiskTierSettings settings(Map<String, ?> values) {
        return DiskTierSettings.from(ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, values), ENGINE);
    }

    private static void assertError(String expectedStart, Map<String, ?> values) {
        var e = assertThrows(ConfigException.class, () -> settings(values));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
    }
}
