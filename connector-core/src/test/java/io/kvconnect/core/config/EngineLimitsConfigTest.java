package io.kvconnect.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.common.ConfigException;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The engine's limits on what a connector may take: their keys, defaults and refusals. */
class EngineLimitsConfigTest {
    private static EngineConfig parse(String json) {
        return EngineConfigReader.parse(json, "test");
    }

    @Test
    void connectorBlockReferencesDefaultsToHalfThePoolAtRunTimeAndCanBeSet() {
        assertEquals(OptionalInt.empty(), parse("{}").scheduler().connectorBlockReferences());
        assertEquals(OptionalInt.of(100),
                parse("{\"connector_block_references\": 100}").scheduler().connectorBlockReferences());
    }

    @Test
    void connectorBlockReferencesOutOfRangeNamesTheKeyAndTheRange() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("{\"connector_block_references\": 0}"));

        assertEquals("config.connector_block_references: 0 is out of range; allowed: [1, 1073741824]",
                e.getMessage());
    }
}
