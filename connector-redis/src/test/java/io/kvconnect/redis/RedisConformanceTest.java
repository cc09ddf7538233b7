package io.kvconnect.redis;

import io.kvconnect.multi.MultiConnectorProvider;
import io.kvconnect.offload.OffloadConnectorProvider;
import io.kvconnect.testkit.ConnectorConformance;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The engine's conformance kit against a real Redis: outputs equal to the run without the
 * connector (sync and async scheduling, one and two workers), no wrong KV read, nothing held
 * afterwards, aborts at random points. Alone, and behind a host tier (a multi of offload then
 * redis).
 */
@Timeout(300)
class RedisConformanceTest {
    @BeforeAll
    static void needsRedis() {
        RedisServer.assumeInstalled();
    }

    @Test
    void passesTheKitAlone() throws Exception {
        try (RedisServer server = RedisServer.start()) {
            ConnectorConformance.of(new RedisConnectorProvider(), Engines.config(server.address()))
                    .run()
                    .assertPassed();
        }
    }

    @Test
    void passesTheKitBehindAHostTier() throws Exception {
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config = Map.of(
                    "connectors",
                    List.of(
                            Map.of("name", "offload", "config", Map.of("capacity", "24KiB")),
                            Map.of("name", "redis", "config", Engines.config(server.address()))));
            ConnectorConformance.of(new MultiConnectorProvider(), config)
                    .withProviders(List.of(new OffloadConnectorProvider(), new RedisConnectorProvider()))
                    .run()
                    .assertPassed();
        }
    }
}
