package io.kvconnect.multi;

import io.kvconnect.offload.OffloadConnectorProvider;
import io.kvconnect.testkit.ConnectorConformance;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A composition of two offload tiers through the conformance kit with the engines' KV caches in
 * CUDA device memory simulated on the host: both children copy through the one device copy service
 * per worker, and outputs still equal the run without a connector with no wrong KV read.
 */
class MultiOnDeviceMemoryTest {
    @Test
    void twoHostTiersConformOnSimulatedDeviceMemory() {
        Map<String, Object> config = Map.of(
                "connectors",
                List.of(
                        Map.of("name", "offload", "config", Map.of("capacity", "16KiB", "load", "sync")),
                        Map.of("name", "offload", "config", Map.of("capacity", "4MiB", "eviction", "arc"))));
        ConnectorConformance.of(new MultiConnectorProvider(), config)
                .withProviders(List.of(new OffloadConnectorProvider()))
                .onSimulatedDeviceMemory()
                .run()
                .assertPassed();
    }
}
