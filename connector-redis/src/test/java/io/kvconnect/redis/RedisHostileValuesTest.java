package io.kvconnect.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.testkit.KitEngine;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Whatever a client of the server left under the keys the tier reads (values of another Redis
 * type, empty values, values far larger than a block) is refused as a failed load that the engine
 * recomputes, costs no more memory than a block's value, and is removed, so that the tier serves
 * the blocks again once they are stored anew.
 */
@Timeout(120)
class RedisHostileValuesTest {
    private static final List<int[]> PROMPTS = Engines.prompts(3, 6);
    /** Far beyond a value of the test model (under 1 KiB); Redis takes up to 512 MB. */
    private static final int OVERSIZED = 512 * 1024;

    private static Map<String, List<Integer>> expected;

    @BeforeAll
    static void needsRedis() throws Exception {
        RedisServer.assumeInstalled();
        expected = Engines.baseline(PROMPTS, 2);
    }

    @Test
    void keysOfAnotherTypeOrEmptyAreRemovedAndTheBlocksServedAgain() throws Exception {
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config = fast(server);
            List<String> keys = storeAll(server, config);
            for (int i = 0; i < keys.size(); i++) {
                String key = keys.get(i);
                server.cli("DEL", key);
                switch (i % 3) {
                    case 0 -> server.cli("RPUSH", key, "not a block");
                    case 1 -> server.cli("HSET", key, "field", "not a block");
                    default -> server.cli("SET", key, "");
                }
            }
            try (KitEngine b = Engines.engine("b", config, 2)) {
                assertEquals(expected, Engines.run(b, PROMPTS));
                Map<String, Number> stats = b.connectorStats();
                assertTrue(Engines.stat(b, "load_refused_foreign") > 0, stats.toString());
                assertEquals(0, Engines.stat(b, "loaded_blocks"), stats.toString());
            }
            // Every key b tried to load was removed (b, whose loads failed, stores none of those
            // blocks): a third engine finds none of them, computes and stores them again.
            try (KitEngine c = Engines.engine("c", config, 2)) {
                assertEquals(expected, Engines.run(c, PROMPTS));
                Map<String, Number> stats = c.connectorStats();
                assertEquals(0, Engines.stat(c, "load_failures"), stats.toString());
                assertTrue(Engines.stat(c, "stored_blocks") > 0, stats.toString());
            }
            try (KitEngine d = Engines.engine("d", config, 2)) {
                assertEquals(expected, Engines.run(d, PROMPTS));
                Map<String, Number> stats = d.connectorStats();
                assertEquals(0, Engines.stat(d, "load_failures"), stats.toString());
                assertTrue(Engines.stat(d, "loaded_blocks") > 0, stats.toString());
            }
        }
    }

    @Test
    void anOversizedValueIsRefusedWithoutBeingReadWhole() throws Exception {
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config = fast(server);
            List<String> keys = storeAll(server, config);
            // A good header and payload, then zeros up to OVERSIZED bytes: only the length betrays it.
            for (String key : keys) {
                server.cli("SETRANGE", key, String.valueOf(OVERSIZED - 1), "x");
            }
            long sentBefore = bytesSent(server);
            try (KitEngine b = Engines.engine("b", config, 2)) {
                assertEquals(expected, Engines.run(b, PROMPTS));
                Map<String, Number> stats = b.connectorStats();
                assertTrue(Engines.stat(b, "load_refused_truncated") > 0, stats.toString());
                assertEquals(0, Engines.stat(b, "loaded_blocks"), stats.toString());
            }
            long sent = bytesSent(server) - sentBefore;
            // Every load read at most a block's value and one byte of each: all of them together
            // are less than one oversized value.
            assertTrue(sent < OVERSIZED, "the server sent " + sent + " bytes to the engine");
        }
    }

    private static Map<String, Object> fast(RedisServer server) {
        Map<String, Object> c = new HashMap<>(Engines.config(server.address()));
        c.put("timeout", "200ms");
        c.put("connect_timeout", "200ms");
        return c;
    }

    /** Runs the prompts in an engine that stores them; {@return every key it wrote} */
    private static List<String> storeAll(RedisServer server, Map<String, Object> config) throws Exception {
        try (KitEngine a = Engines.engine("a", config, 2)) {
            assertEquals(expected, Engines.run(a, PROMPTS));
        }
        List<String> keys =
                server.cli("--scan", "--pattern", "kvc:*").lines().sorted().toList();
        assertTrue(keys.size() > 2, keys.toString());
        return keys;
    }

    /** {@return the bytes the server has sent to its clients since it started} */
    private static long bytesSent(RedisServer server) throws IOException, InterruptedException {
        return server.cli("INFO", "stats")
                .lines()
                .filter(l -> l.startsWith("total_net_output_bytes:"))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(':') + 1).strip()))
                .findFirst()
                .orElseThrow();
    }
}
