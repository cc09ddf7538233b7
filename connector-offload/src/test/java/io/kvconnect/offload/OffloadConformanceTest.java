package io.kvconnect.offload;

import io.kvconnect.testkit.ConnectorConformance;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The engine's conformance kit: outputs equal to the run without the connector (sync and async
 * scheduling, one and two workers), no wrong KV read, nothing held afterwards, aborts at random
 * points. Run for both load modes and both eviction policies, with a roomy tier and with one so
 * small that stores constantly evict, with a store threshold, and with offloaded blocks of 2, 3
 * and 4 engine blocks. The kit's tight configuration is a tier of 12 offloaded blocks.
 */
class OffloadConformanceTest {
    @ParameterizedTest(name = "load={0}, eviction={1}, capacity={2}, store_threshold={3}, block_multiple={4}")
    @CsvSource({
        "async, lru, 4MiB, 0, 1",
        "sync,  lru, 4MiB, 0, 1",
        "async, arc, 4MiB, 0, 1",
        "sync,  arc, 4MiB, 0, 1",
        "async, lru, 24KiB, 0, 1",
        "sync,  arc, 24KiB, 0, 1",
        "async, arc, 24KiB, 1, 1",
        "sync,  lru, 4MiB, 2, 1",
        "async, lru, 4MiB, 0, 2",
        "sync,  arc, 4MiB, 0, 4",
        "async, arc, 64KiB, 0, 3",
    })
    void passesTheKit(String load, String eviction, String capacity, long threshold, long blockMultiple) {
        ConnectorConformance.of(
                        new OffloadConnectorProvider(),
                        Map.of(
                                "capacity",
                                capacity,
                                "load",
                                load,
                                "eviction",
                                eviction,
                                "store_threshold",
                                threshold,
                                "block_multiple",
                                blockMultiple))
                .withTightConfig(Map.of(
                        "capacity",
                        (12 * blockMultiple) + "KiB",
                        "load",
                        load,
                        "eviction",
                        eviction,
                        "block_multiple",
                        blockMultiple))
                .run()
                .assertPassed();
    }
}
