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
 * Two engines share one standalone Redis: what engine A stored, engine B loads, with outputs equal
 * to a run without any connector; engines whose KV is incompatible never see each other's blocks.
 */
@Timeout(120)
class SharedTierTest {
    @BeforeAll
    static void needsRedis() {
        RedisServer.assumeInstalled();
    }

    @Test
    void engineBLoadsWhatEngineAStoredWithIdenticalOutputs() throws Exception {
        List<int[]> prompts = Engines.prompts(1, 6);
        Map<String, List<Integer>> expected = Engines.baseline(prompts, 2);
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config = Engines.config(server.address());
            try (KitEngine a = Engines.engine("a", config, 2)) {
                assertEquals(expected, Engines.run(a, prompts));
                assertTrue(
                        Engines.stat(a, "stored_blocks") > 0, a.connectorStats().toString());
                assertEquals(0, Engines.stat(a, "hit_blocks"), "a fresh Redis has nothing");
            }
            // Two ranks store their own shards: two keys per block.
            long keys = Long.parseLong(server.cli("DBSIZE"));
            try (KitEngine b = Engines.engine("b", config, 2)) {
                assertEquals(expected, Engines.run(b, prompts));
                Map<String, Number> stats = b.connectorStats();
                assertTrue(Engines.stat(b, "hit_blocks") > 0, stats.toString());
                assertEquals(Engines.stat(b, "hit_blocks"), Engines.stat(b, "loaded_blocks"), stats.toString());
                assertEquals(0, Engines.stat(b, "load_failures"), stats.toString());
                assertTrue(Engines.stat(b, "load_bytes") > 0 && Engines.stat(b, "load_nanos") > 0, stats.toString());
                assertTrue(
                        b.schedulerCounts().get("connector_hit_tokens") > 0,
                        b.schedulerCounts().toString());
            }
            assertEquals(0, keys % 2, "one key per block and rank: " + keys);
        }
    }

    @Test
    void incompatibleEnginesNeverHitEachOthersBlocks() throws Exception {
        List<int[]> prompts = Engines.prompts(2, 4);
        try (RedisServer server = RedisServer.start()) {
            Map<String, Object> config = Engines.config(server.address());
            try (KitEngine a = Engines.engine("a", config, 1)) {
                Engines.run(a, prompts);
                assertTrue(Engines.stat(a, "stored_blocks") > 0);
            }
            // Another namespace label, another tensor-parallel size, another block size.
            Map<String, Object> labelled = new HashMap<>(config);
            labelled.put("namespace", "other-deployment");
            try (KitEngine b = Engines.engine("b", labelled, 1)) {
                Engines.run(b, prompts);
                assertEquals(
                        0, Engines.stat(b, "hit_blocks"), b.connectorStats().toString());
            }
            try (KitEngine c = Engines.engine("c", config, 2)) {
                Engines.run(c, prompts);
                assertEquals(
                        0, Engines.stat(c, "hit_blocks"), c.connectorStats().toString());
            }
            try (KitEngine d = KitEngine.create(
                    java.util.Optional.of(new RedisConnectorProvider()),
                    config,
                    Engines.options("d", 1).withBlockSize(8))) {
                Engines.run(d, prompts);
                assertEquals(
                        0, Engines.stat(d, "hit_blocks"), d.connectorStats().toString());
            }
            // The same as a: hits.
            try (KitEngine e = Engines.engine("e", config, 1)) {
                Engines.run(e, prompts);
                assertTrue(Engines.stat(e, "hit_blocks") > 0, e.connectorStats().toString());
            }
        }
    }
}
