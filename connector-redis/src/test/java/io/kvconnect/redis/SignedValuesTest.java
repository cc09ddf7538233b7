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
 * Under a value secret, engines that share it load each other's blocks, and a client of the same
 * Redis without it, here an engine with another secret writing values the way an engine does,
 * never makes them load its bytes: its values are refused as forged, removed, and the blocks
 * recomputed, with outputs equal to a run without any connector.
 */
@Timeout(120)
class SignedValuesTest {
    private static final String SECRET = "the deployment's value secret";

    @BeforeAll
    static void needsRedis() {
        RedisServer.assumeInstalled();
    }

    @Test
    void onlyEnginesWithTheSecretMakeValuesTheOthersLoad() throws Exception {
        List<int[]> prompts = Engines.prompts(3, 6);
        Map<String, List<Integer>> expected = Engines.baseline(prompts, 2);
        try (RedisServer server = RedisServer.start()) {
            try (KitEngine a = Engines.engine("a", signed(server, SECRET), 2)) {
                assertEquals(expected, Engines.run(a, prompts));
                assertTrue(
                        Engines.stat(a, "stored_blocks") > 0, a.connectorStats().toString());
            }
            try (KitEngine b = Engines.engine("b", signed(server, SECRET), 2)) {
                assertEquals(expected, Engines.run(b, prompts));
                assertTrue(
                        Engines.stat(b, "loaded_blocks") > 0, b.connectorStats().toString());
                assertEquals(
                        0, Engines.stat(b, "load_failures"), b.connectorStats().toString());
            }

            // Same namespace and key scheme, values signed with another secret: every value of the
            // deployment it finds is refused and removed, and it computes the blocks itself.
            String other = "a secret the deployment never had";
            try (KitEngine forger = Engines.engine("forger", signed(server, other), 2)) {
                assertEquals(expected, Engines.run(forger, prompts));
                Map<String, Number> stats = forger.connectorStats();
                assertTrue(Engines.stat(forger, "load_refused_forged") > 0, stats.toString());
                assertEquals(0, Engines.stat(forger, "loaded_blocks"), stats.toString());
            }
            // What it stores, under the keys the deployment's engines look up, they refuse.
            List<int[]> planted = Engines.prompts(4, 6);
            Map<String, List<Integer>> plantedExpected = Engines.baseline(planted, 2);
            try (KitEngine forger = Engines.engine("forger-2", signed(server, other), 2)) {
                assertEquals(plantedExpected, Engines.run(forger, planted));
                assertTrue(
                        Engines.stat(forger, "stored_blocks") > 0,
                        forger.connectorStats().toString());
            }
            try (KitEngine c = Engines.engine("c", signed(server, SECRET), 2)) {
                assertEquals(plantedExpected, Engines.run(c, planted));
                Map<String, Number> stats = c.connectorStats();
                assertTrue(Engines.stat(c, "load_refused_forged") > 0, stats.toString());
                assertEquals(0, Engines.stat(c, "loaded_blocks"), stats.toString());
            }

            // An engine without a value secret keeps to its own namespace: it neither loads
            // signed values nor removes them.
            long keys = Long.parseLong(server.cli("DBSIZE"));
            try (KitEngine plain = Engines.engine("plain", Engines.config(server.address()), 2)) {
                assertEquals(expected, Engines.run(plain, prompts));
                assertEquals(
                        0,
                        Engines.stat(plain, "hit_blocks"),
                        plain.connectorStats().toString());
                assertEquals(
                        0,
                        Engines.stat(plain, "load_failures"),
                        plain.connectorStats().toString());
            }
            assertTrue(Long.parseLong(server.cli("DBSIZE")) > keys, "the plain engine stored beside them");
        }
    }

    private static Map<String, Object> signed(RedisServer server, String secret) {
        Map<String, Object> c = new HashMap<>(Engines.config(server.address()));
        c.put("value_secret", secret);
        return c;
    }
}
