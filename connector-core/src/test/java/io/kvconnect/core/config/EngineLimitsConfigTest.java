package io.kvconnect.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.common.ConfigException;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The engine's limits on what a connector and the configuration may take: their keys, defaults
 * and refusals. Machine-dependent defaults are read as on a machine of 24 GiB.
 */
class EngineLimitsConfigTest {
    private static final OptionalLong MACHINE = OptionalLong.of(24L << 30);

    private static EngineConfig parse(String json) {
        return EngineConfigReader.parse(json, "test", MACHINE);
    }

    private static ConfigException fails(String json) {
        return assertThrows(ConfigException.class, () -> parse(json));
    }

    // ---- connector_block_references -------------------------------------------------------------

    @Test
    void connectorBlockReferencesDefaultsToHalfThePoolAtRunTimeAndCanBeSet() {
        assertEquals(OptionalInt.empty(), parse("{}").scheduler().connectorBlockReferences());
        assertEquals(
                OptionalInt.of(100),
                parse("{\"connector_block_references\": 100}").scheduler().connectorBlockReferences());
    }

    @Test
    void connectorBlockReferencesOutOfRangeNamesTheKeyAndTheRange() {
        ConfigException e = fails("{\"connector_block_references\": 0}");

        assertEquals("config.connector_block_references: 0 is out of range; allowed: [1, 1073741824]", e.getMessage());
    }

    // ---- host_memory_budget ---------------------------------------------------------------------

    @Test
    void theHostMemoryBudgetDefaultsToAQuarterOfTheMachineAndCanBeSet() {
        assertEquals(6L << 30, parse("{}").hostMemoryBudget());
        assertEquals(2L << 30, parse("{\"host_memory_budget\": \"2GiB\"}").hostMemoryBudget());
        assertEquals(0, parse("{\"host_memory_budget\": 0}").hostMemoryBudget(), "no host buffers at all");
        assertEquals(
                4L << 30,
                EngineConfigReader.parse("{}", "test", OptionalLong.empty()).hostMemoryBudget(),
                "a few GiB where the JDK cannot tell the machine's memory");
    }

    @Test
    void aHostMemoryBudgetThatIsNotAByteSizeIsRefusedNamingTheKey() {
        ConfigException e = fails("{\"host_memory_budget\": \"lots\"}");

        assertEquals("config.host_memory_budget", e.path());
    }

    // ---- the KV cache's memory ------------------------------------------------------------------

    @Test
    void aKvCacheLargerThanTheMachineIsRefusedNamingGpuBlocksTheTotalAndWhatIsAvailable() {
        // The default model has 64 KiB per block on each of 64 workers: 64 TiB in all.
        ConfigException e = fails("{\"gpu_blocks\": 16777216, \"workers\": 64}");

        assertEquals("config.gpu_blocks", e.path());
        assertEquals(
                "config.gpu_blocks: 16777216 blocks per worker need 64.0 TiB of KV memory (64 worker(s) x "
                        + "16777217 blocks x 64.0 KiB = 64.0 TiB), more than is available for it (18.0 GiB: the machine's "
                        + "memory, 24.0 GiB, less host_memory_budget 6.0 GiB); allowed: at most 4607 blocks per worker with "
                        + "this model, block size and number of workers, or a larger kv_memory_limit",
                e.getMessage());
    }

    @Test
    void theSameConfigurationIsRefusedOnThisMachineToo() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> EngineConfigReader.parse("{\"gpu_blocks\": 16777216, \"workers\": 64}", "test"));

        assertEquals("config.gpu_blocks", e.path());
    }

    @Test
    void aConfiguredKvMemoryLimitIsTheLimitUpToTheByte() {
        // 2 workers x 4097 blocks x 256 KiB (the default model, 4 KV heads per worker) = 2 GiB + 512 KiB.
        long total = 2L * 4097 * (256 << 10);
        assertEquals(
                4096,
                parse("{\"gpu_blocks\": 4096, \"workers\": 2, \"kv_memory_limit\": " + total + "}")
                        .gpuBlocks());

        ConfigException e = fails("{\"gpu_blocks\": 4096, \"workers\": 2, \"kv_memory_limit\": " + (total - 1) + "}");

        assertEquals(
                "config.gpu_blocks: 4096 blocks per worker need 2.0 GiB of KV memory (2 worker(s) x 4097 blocks "
                        + "x 256.0 KiB = 2.0 GiB), more than is available for it (kv_memory_limit 2.0 GiB); allowed: at most "
                        + "4095 blocks per worker with this model, block size and number of workers, or a larger "
                        + "kv_memory_limit",
                e.getMessage());
    }

    @Test
    void theHostBudgetLeavesTheRestOfTheMachineToTheKvCache() {
        // 20 GiB of host buffers leave 4 GiB: 2 GiB of KV cache fit, 4 GiB do not.
        assertEquals(4L << 30, parse("{\"host_memory_budget\": \"20GiB\"}").kvMemoryLimit());
        parse("{\"host_memory_budget\": \"20GiB\", \"gpu_blocks\": 4096, \"workers\": 2}");
        ConfigException e = fails("{\"host_memory_budget\": \"20GiB\", \"gpu_blocks\": 8192, \"workers\": 2}");
        assertEquals("config.gpu_blocks", e.path());
    }

    @Test
    void withoutTheMachinesMemoryOnlyAConfiguredLimitIsChecked() {
        EngineConfig huge =
                EngineConfigReader.parse("{\"gpu_blocks\": 16777216, \"workers\": 64}", "test", OptionalLong.empty());
        assertEquals(Long.MAX_VALUE, huge.kvMemoryLimit());

        assertThrows(
                ConfigException.class,
                () -> EngineConfigReader.parse(
                        "{\"gpu_blocks\": 16777216, \"kv_memory_limit\": \"1TiB\"}", "test", OptionalLong.empty()));
    }
}
