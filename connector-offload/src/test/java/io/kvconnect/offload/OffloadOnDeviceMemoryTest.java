package io.kvconnect.offload;

import io.kvconnect.testkit.ConnectorConformance;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The conformance kit with the engines' KV caches in CUDA device memory simulated on the host: the
 * offload tier's stores and loads go through pinned buffers and coalesced device copies fenced
 * against the model's layers, and every scenario still has outputs equal to the run without the
 * connector and no wrong KV read. Shows the device path's logic, not a GPU (none was available).
 */
class OffloadOnDeviceMemoryTest {
    @ParameterizedTest(name = "load={0}, eviction={1}, capacity={2}")
    @CsvSource({"async, lru, 4MiB", "sync, arc, 24KiB"})
    void passesTheKitOnSimulatedDeviceMemory(String load, String eviction, String capacity) {
        ConnectorConformance.of(
                        new OffloadConnectorProvider(),
                        Map.of("capacity", capacity, "load", load, "eviction", eviction))
                .withTightConfig(Map.of("capacity", "12KiB", "load", load, "eviction", eviction))
                .onSimulatedDeviceMemory()
                .run()
                .assertPassed();
    }
}
