package io.kvconnect.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.testkit.KitEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Redis Cluster of three masters on loopback, as a fleet outgrows one node: two engines share
 * it through one seed node, and the blocks spread over every master.
 */
@Timeout(120)
class RedisClusterTest {
    @BeforeAll
    static void needsRedis() {
        RedisServer.assumeInstalled();
    }

    @Test
    void twoEnginesShareAThreeMasterCluster() throws Exception {
        List<int[]> prompts = Engines.prompts(8, 8);
        Map<String, List<Integer>> expected = Engines.baseline(prompts, 2);
        List<RedisServer> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                nodes.add(RedisServer.start(
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        "2000"));
            }
            List<String> create = new ArrayList<>(List.of(RedisServer.CLI, "--cluster", "create"));
            nodes.forEach(n -> create.add(n.address()));
            create.add("--cluster-yes");
            RedisServer.run(create);
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!nodes.stream().allMatch(RedisClusterTest::ready)) {
                assertTrue(System.nanoTime() < deadline, "the cluster never became ready");
                Thread.sleep(100);
            }
            Map<String, Object> config =
                    Map.of("servers", List.of(nodes.getFirst().address()), "cluster", true);
            try (KitEngine a = Engines.engine("a", config, 2)) {
                assertEquals(expected, Engines.run(a, prompts));
                assertTrue(
                        Engines.stat(a, "stored_blocks") > 0, a.connectorStats().toString());
            }
            try (KitEngine b = Engines.engine("b", config, 2)) {
                assertEquals(expected, Engines.run(b, prompts));
                assertTrue(Engines.stat(b, "hit_blocks") > 0, b.connectorStats().toString());
                assertEquals(
                        0, Engines.stat(b, "load_failures"), b.connectorStats().toString());
            }
            for (RedisServer n : nodes) {
                assertTrue(Long.parseLong(n.cli("DBSIZE")) > 0, "every master holds blocks");
            }
        } finally {
            for (RedisServer n : nodes) {
                n.close();
            }
        }
    }

    private static boolean ready(RedisServer n) {
        try {
            return n.cli("CLUSTER", "INFO").contains("cluster_state:ok");
        } catch (Exception e) {
            return false;
        }
    }
}
