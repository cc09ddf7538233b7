package io.kvconnect.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.testkit.KitEngine;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Redis that is down, paused, flushed, full, restarted or holding foreign values costs hits,
 * never correctness or liveness: every run below ends with the outputs of a run without any
 * connector and no wrong KV read, and the connector counts what happened.
 */
@Timeout(120)
class RedisFaultsTest {
    private static final List<int[]> PROMPTS = Engines.prompts(3, 6);
    private static Map<String, List<Integer>> expected;

    @BeforeAll
    static void needsRedis() throws Exception {
        RedisServer.assumeInstalled();
        expected = Engines.baseline(PROMPTS, 2);
    }

    private static Map<String, Object> fast(RedisServer server) {
        Map<String, Object> c = new HashMap<>(Engines.config(server.address()));
        c.put("timeout", "200ms");
        c.put("connect_timeout", "200ms");
        return c;
    }

    @Test
    void aRedisThatIsDownFromTheStartCostsOnlyHits() throws Exception {
        Map<String, Object> config = Map.of(
                "servers",
                List.of("127.0.0.1:" + RedisServer.freePort()),
                "timeout",
                "200ms",
                "connect_timeout",
                "200ms");
        try (KitEngine e = Engines.engine("down", config, 2)) {
            assertEquals(expected, Engines.run(e, PROMPTS));
            assertEquals(0, Engines.stat(e, "hit_blocks"));
            assertTrue(
                    Engines.stat(e, "lookup_unavailable") > 0,
                    e.connectorStats().toString());
            assertTrue(
                    Engines.stat(e, "store_dropped_unavailable") > 0,
                    e.connectorStats().toString());
        }
    }

    @Test
    void aStoppedThenRestartedRedisCostsHitsAndIsUsedAgain() throws Exception {
        List<int[]> second = Engines.prompts(5, 6);
        List<int[]> third = Engines.prompts(6, 6);
        Map<String, List<Integer>> secondExpected = Engines.baseline(second, 2);
        Map<String, List<Integer>> thirdExpected = Engines.baseline(third, 2);
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config = fast(server);
            try (KitEngine a = Engines.engine("a", config, 2)) {
                assertEquals(expected, Engines.batch(a, PROMPTS, "first"));
                long stored = Engines.stat(a, "stored_blocks");
                assertTrue(stored > 0);
                server.kill();
                // The connection is gone: lookups and stores fail fast, outputs stay right.
                assertEquals(secondExpected, Engines.batch(a, second, "second"));
                assertEquals(
                        stored,
                        Engines.stat(a, "stored_blocks"),
                        a.connectorStats().toString());
                server.restart(); // empty: nothing is persisted
                Thread.sleep(2000); // Lettuce reconnects in the background within its backoff
                assertEquals(thirdExpected, Engines.run(a, third));
                assertTrue(
                        Engines.stat(a, "stored_blocks") > stored,
                        "stores again after the restart: " + a.connectorStats());
            }
            try (KitEngine b = Engines.engine("b", config, 2)) {
                assertEquals(thirdExpected, Engines.run(b, third));
                assertTrue(Engines.stat(b, "hit_blocks") > 0, b.connectorStats().toString());
            }
        }
    }

    @Test
    void aPausedRedisCostsAtMostTheTimeoutPerCommand() throws Exception {
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config = fast(server);
            try (KitEngine a = Engines.engine("a", config, 2)) {
                Engines.run(a, PROMPTS);
            }
            try (KitEngine b = Engines.engine("b", config, 2)) {
                server.signal("STOP");
                try {
                    assertEquals(expected, Engines.run(b, PROMPTS));
                } finally {
                    server.signal("CONT");
                }
                Map<String, Number> stats = b.connectorStats();
                assertEquals(0, Engines.stat(b, "hit_blocks"), stats.toString());
                assertTrue(
                        Engines.stat(b, "lookup_errors_timeout") + Engines.stat(b, "store_errors_timeout") > 0,
                        stats.toString());
            }
        }
    }

    @Test
    void aFlushedRedisIsRefilled() throws Exception {
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config = fast(server);
            try (KitEngine a = Engines.engine("a", config, 2)) {
                Engines.run(a, PROMPTS);
            }
            server.cli("FLUSHALL");
            try (KitEngine b = Engines.engine("b", config, 2)) {
                assertEquals(expected, Engines.run(b, PROMPTS));
                assertEquals(0, Engines.stat(b, "hit_blocks"));
                assertTrue(
                        Engines.stat(b, "stored_blocks") > 0, b.connectorStats().toString());
            }
            try (KitEngine c = Engines.engine("c", config, 2)) {
                assertEquals(expected, Engines.run(c, PROMPTS));
                assertTrue(Engines.stat(c, "hit_blocks") > 0, c.connectorStats().toString());
            }
        }
    }

    @Test
    void anEngineThatFindsItsStoredBlocksGoneAnnouncesTheirRemoval() throws Exception {
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config = fast(server);
            try (KitEngine a = Engines.engine("a", config, 2)) {
                assertEquals(expected, Engines.batch(a, PROMPTS, "first"));
                assertTrue(
                        Engines.stat(a, "stored_blocks") > 0, a.connectorStats().toString());
                assertEquals(0, Engines.stat(a, "removed_blocks"), "nothing is gone yet");

                server.cli("FLUSHALL"); // what eviction under maxmemory does to these keys
                // Other prompts push the first ones out of the GPU prefix cache, so asking for
                // them again looks them up in Redis.
                Engines.batch(a, Engines.prompts(99, 6), "filler");
                assertEquals(expected, Engines.run(a, PROMPTS));

                assertTrue(
                        Engines.stat(a, "removed_blocks") > 0,
                        a.connectorStats().toString());
            }
        }
    }

    @Test
    void foreignAndCorruptValuesAreMissesNeverWrongKv() throws Exception {
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config = fast(server);
            try (KitEngine a = Engines.engine("a", config, 2)) {
                Engines.run(a, PROMPTS);
            }
            // Every value replaced: a value of another key (foreign) or garbage (truncated).
            List<String> keys =
                    server.cli("--scan", "--pattern", "kvc:*").lines().sorted().toList();
            assertTrue(keys.size() > 2, keys.toString());
            for (int i = 0; i < keys.size(); i++) {
                if (i % 2 == 0) {
                    server.cli("COPY", keys.get((i + 1) % keys.size()), keys.get(i), "REPLACE");
                } else {
                    server.cli("SET", keys.get(i), "not a block");
                }
            }
            try (KitEngine b = Engines.engine("b", config, 2)) {
                assertEquals(expected, Engines.run(b, PROMPTS));
                Map<String, Number> stats = b.connectorStats();
                assertTrue(Engines.stat(b, "load_failures") > 0, stats.toString());
                assertTrue(
                        Engines.stat(b, "load_refused_foreign") + Engines.stat(b, "load_refused_truncated") > 0,
                        stats.toString());
                assertEquals(0, Engines.stat(b, "loaded_blocks"), stats.toString());
            }
        }
    }

    @Test
    void aFullRedisEvictsAndStaysCorrect() throws Exception {
        // Room for a few blocks only: stores evict each other (allkeys-lru) while engines load.
        try (RedisServer server = RedisServer.start("--maxmemory", "1200kb", "--maxmemory-policy", "allkeys-lru")) {
            Map<String, Object> config = fast(server);
            List<int[]> many = Engines.prompts(4, 24);
            Map<String, List<Integer>> want = Engines.baseline(many, 2);
            try (KitEngine a = Engines.engine("a", config, 2)) {
                assertEquals(want, Engines.run(a, many));
            }
            try (KitEngine b = Engines.engine("b", config, 2)) {
                assertEquals(want, Engines.run(b, many));
            }
            assertTrue(server.cli("INFO", "stats").contains("evicted_keys:"), "an eviction-capable server");
        }
    }
}
