package com.example.disktier;

import io.kvconnect.testkit.ConnectorConformance;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs the engine's conformance kit against the disk tier, with a tier large enough for the kit's
 * workload and with one so small that stores evict all the time. Every scenario starts an engine on
 * the same directory, so later scenarios also load what earlier ones wrote.
 */
class DiskTierConformanceTest {
    @TempDir
    Path directory;

    @ParameterizedTest(name = "capacity {0}")
    @ValueSource(strings = {"1MiB", "16KiB"})
    void passesTheKit(String capacity) {
        ConnectorConformance.of(new DiskTierConnectorProvider(),
                Map.of("directory", directory.toString(), "capacity", capacity)).run().assertPassed();
    }
}
