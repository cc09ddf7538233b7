package io.kvconnect.disk;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.multi.MultiConnectorProvider;
import io.kvconnect.offload.OffloadConnectorProvider;
import io.kvconnect.testkit.ConnectorConformance;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The engine's conformance kit: outputs equal to the run without the connector (sync and async
 * scheduling, one and two workers), no wrong KV read, nothing held afterwards, aborts at random
 * points. Alone, for both load modes, with a roomy tier and with one so small that stores
 * constantly evict, and with a staging buffer so small that most stores are dropped; and behind a
 * host tier in a multi connector (offload first, then disk).
 */
class DiskConformanceTest {
    @TempDir
    Path directory;

    @ParameterizedTest(name = "load={0}, capacity={1}, staging_blocks={2}")
    @CsvSource({
        "async, 64MiB, 64",
        "sync,  64MiB, 64",
        "async, 200KiB, 64",
        "sync,  200KiB, 8",
        "async, 64MiB, 1",
    })
    void passesTheKit(String load, String capacity, long staging) {
        ConnectorConformance.of(new DiskConnectorProvider(), config(load, capacity, staging))
                .run()
                .assertPassed();
    }

    @Test
    void passesTheKitBehindAHostTier() {
        List<ConnectorProvider> children = List.of(new OffloadConnectorProvider(), new DiskConnectorProvider());
        Map<String, Object> multi = Map.of(
                "connectors",
                List.of(
                        Map.of("name", "offload", "config", Map.of("capacity", "24KiB")),
                        Map.of("name", "disk", "config", config("async", "64MiB", 64))));
        ConnectorConformance.of(new MultiConnectorProvider(), multi)
                .withProviders(children)
                .run()
                .assertPassed();
    }

    private Map<String, Object> config(String load, String capacity, long staging) {
        return Map.of("directory", directory.toString(), "capacity", capacity, "load", load, "staging_blocks", staging);
    }
}
