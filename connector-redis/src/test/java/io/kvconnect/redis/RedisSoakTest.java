package io.kvconnect.redis;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.multi.MultiConnectorProvider;
import io.kvconnect.offload.OffloadConnectorProvider;
import io.kvconnect.testkit.FaultPlan;
import io.kvconnect.testkit.Soak;
import io.kvconnect.testkit.SoakReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The engine's soak over the redis tier (short, for CI) with its own fault: the Redis server is
 * killed after round 2 and started again, empty, after round 4; alone and behind a host tier. No
 * output changes, nothing leaks, and the tier is used before and after the outage.
 */
@Timeout(300)
class RedisSoakTest {
    @BeforeAll
    static void needsRedis() {
        RedisServer.assumeInstalled();
    }

    @Test
    void aRedisStoppedMidRunNeverChangesAnOutputOrLeaks() throws Exception {
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config =
                    Map.of("servers", List.of(server.address()), "timeout", "200ms", "connect_timeout", "200ms");
            SoakReport report = Soak.of(new RedisConnectorProvider(), config)
                    .faults(FaultPlan.parse("copy_fail=0.02,late_errors=0.5"))
                    .rounds(6)
                    .seed(21)
                    .run(round -> outage(server, round));
            report.assertPassed();
            assertTrue(report.hitTokens() > 0 && report.blocksLoaded() > 0, report.render());
        }
    }

    @Test
    void behindAHostTierToo() throws Exception {
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> redis =
                    Map.of("servers", List.of(server.address()), "timeout", "200ms", "connect_timeout", "200ms");
            Map<String, Object> config = Map.of(
                    "connectors",
                    List.of(
                            Map.of("name", "offload", "config", Map.of("capacity", "24KiB")),
                            Map.of("name", "redis", "config", redis)));
            SoakReport report = Soak.of(new MultiConnectorProvider(), config)
                    .withProviders(List.of(new OffloadConnectorProvider(), new RedisConnectorProvider()))
                    .rounds(6)
                    .seed(22)
                    .run(round -> outage(server, round));
            report.assertPassed();
            assertTrue(report.hitTokens() > 0, report.render());
        }
    }

    private static void outage(RedisServer server, long round) {
        try {
            if (round == 2) {
                server.kill();
            } else if (round == 4) {
                server.restart();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
