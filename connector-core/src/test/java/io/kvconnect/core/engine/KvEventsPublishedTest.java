package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.concat;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.core.config.KvEventsConfig;
import io.kvconnect.core.kv.BlockHasher;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two engines publish their KV events to files, as a cache-aware router would consume them; the
 * second has a host tier too ({@link EventOnlyTier}, medium {@code CPU}). The router's side is
 * rebuilt here from the lines alone: which engine holds which block on which medium, and for a
 * prompt, which engine holds its longest prefix on which tier, with the block hashes recomputed
 * from the prompt's token ids, the block size and the hash the lines name. Both are checked
 * against what the engines' pools and the tier actually hold.
 */
class KvEventsPublishedTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BLOCK = 4;

    @TempDir
    Path dir;

    @Test
    void aRouterRebuildsWhichEngineHoldsWhichPrefixFromThePublishedLines() throws Exception {
        int[] system = prompt(7, 16); // four blocks every prompt shares
        Map<String, Set<BlockHash>> actual = new TreeMap<>();
        Map<String, Engine> engines = new TreeMap<>();
        // e1: two workers, a small pool that evicts; e2: one worker, its GPU cache reset half way,
        // and a host tier of 12 blocks that evicts too.
        EventOnlyTier tier = new EventOnlyTier(StorageMedium.CPU, 12, BLOCK);
        Engine e1 = engine("e1", 20, 2, Optional.empty());
        Engine e2 = engine("e2", 64, 1, Optional.of(tier));
        engines.put("e1", e1);
        engines.put("e2", e2);
        int[][] prompts = new int[8][];
        for (int i = 0; i < prompts.length; i++) {
            prompts[i] = concat(system, prompt(100 + i, 18));
        }
        try (e1;
                e2) {
            for (int i = 0; i < prompts.length; i++) {
                Engine e = i % 2 == 0 ? e1 : e2;
                e.addRequest("r" + i, prompts[i], 4);
                drain(e);
                if (i == 3) {
                    assertTrue(e2.scheduler().resetPrefixCache(), "e2 is drained: its cache resets");
                }
            }
            e1.addRequest("last", prompts[0], 4);
            drain(e1);
            engines.forEach((id, e) -> actual.put(id, cached(e)));
        }
        Set<BlockHash> tierHeld = tier.held();
        assertEquals(0, e1.kvEventPublisher().orElseThrow().dropped());

        Map<String, Map<String, Set<String>>> index = new TreeMap<>(); // engine -> medium -> hashes
        for (String id : engines.keySet()) {
            List<String> lines = Files.readAllLines(dir.resolve(id + ".jsonl"));
            assertTrue(!lines.isEmpty(), id + " published");
            long seq = 0;
            for (String line : lines) {
                JsonNode batch = JSON.readTree(line);
                assertEquals(id, batch.get("engine").asText());
                assertEquals(id.equals("e1") ? 2 : 1, batch.get("tp_size").asInt());
                assertEquals("sha256-chain-v1", batch.get("hash").asText());
                assertEquals(seq++, batch.get("seq").asLong(), "no batch lost");
                for (JsonNode event : batch.get("events")) {
                    apply(index.computeIfAbsent(id, k -> new TreeMap<>()), event);
                }
            }
        }
        for (String id : engines.keySet()) {
            Set<String> held = new HashSet<>();
            actual.get(id).forEach(h -> held.add(h.toHex()));
            assertEquals(held, index.get(id).getOrDefault("GPU", Set.of()), id + "'s GPU blocks");
        }
        Set<String> tierHex = new HashSet<>();
        tierHeld.forEach(h -> tierHex.add(h.toHex()));
        assertEquals(tierHex, index.get("e2").get("CPU"), "e2's host tier");
        assertEquals(Set.of("GPU"), index.get("e1").keySet(), "e1 has no tier");
        assertTrue(tierHeld.size() == 12, "the tier filled and evicted: " + tierHeld.size());

        // The router's question: which engine holds the longest prefix of each prompt?
        BlockHasher hasher = new BlockHasher(BLOCK);
        for (int[] p : prompts) {
            Map<String, Integer> byIndex = new HashMap<>();
            Map<String, Integer> byPool = new HashMap<>();
            for (String id : engines.keySet()) {
                byIndex.put(id, prefixBlocks(hasher, p, h -> index.get(id)
                        .getOrDefault("GPU", Set.of())
                        .contains(h.toHex())));
                byPool.put(id, prefixBlocks(hasher, p, actual.get(id)::contains));
            }
            assertEquals(byPool, byIndex);
        }
        assertTrue(
                prefixBlocks(hasher, prompts[0], actual.get("e1")::contains) >= 4,
                "e1 still holds the prompt it ran last");
    }

    private Engine engine(String id, int gpuBlocks, int workers, Optional<EventOnlyTier> tier) {
        var config = new KvEventsConfig(new KvEventsConfig.File(dir.resolve(id + ".jsonl")), id, 1024);
        EngineSetup s = setup(gpuBlocks, workers, false, LoadFailurePolicy.FAIL)
                .withConfig(c -> c.kvEvents(Optional.of(config)));
        return new Engine(s.withConnector(
                tier.map(t -> new EngineSetup.ConnectorSides("tier", t, rank -> EventOnlyTier.worker()))));
    }

    private static Set<BlockHash> cached(Engine e) {
        Set<BlockHash> out = new HashSet<>();
        e.scheduler().view().kvCacheManager().pool().forEachCached((id, hash, free) -> out.add(hash));
        return out;
    }

    private static void apply(Map<String, Set<String>> byMedium, JsonNode event) {
        Set<String> held = byMedium.computeIfAbsent(event.get("medium").asText(), k -> new HashSet<>());
        switch (event.get("type").asText()) {
            case "BlockStored" -> {
                assertEquals(BLOCK, event.get("block_size").asInt());
                event.get("block_hashes").forEach(h -> held.add(h.asText()));
            }
            case "BlockRemoved" -> event.get("block_hashes").forEach(h -> held.remove(h.asText()));
            case "AllBlocksCleared" -> held.clear();
            default -> throw new AssertionError("unknown event " + event);
        }
    }

    private interface Holds {
        boolean holds(BlockHash hash);
    }

    /** Full blocks of {@code p}, from the first, whose recomputed hashes {@code holds}. */
    private static int prefixBlocks(BlockHasher hasher, int[] p, Holds holds) {
        BlockHash parent = null;
        int n = 0;
        for (int from = 0; from + BLOCK <= p.length; from += BLOCK) {
            BlockHash h = hasher.hash(parent, p, from, Optional.empty());
            if (!holds.holds(h)) {
                break;
            }
            n++;
            parent = h;
        }
        return n;
    }
}
