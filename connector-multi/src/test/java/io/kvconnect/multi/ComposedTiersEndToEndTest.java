package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.offload.OffloadConnectorProvider;
import io.kvconnect.testkit.KitEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Two host tiers in one {@code multi}, end to end in the kit's verifying engine (two workers, a KV
 * read of wrong content is counted): a small first tier that keeps only the shared system prompt
 * (its store threshold keeps once-seen documents out) and a larger second tier that keeps
 * everything. When a document is asked about again, after unrelated traffic pushed it out of the
 * GPU prefix cache, the first tier serves the system prompt and the second tier the document, in
 * the same step. The same traffic with the first tier alone serves only the system prompt.
 */
class ComposedTiersEndToEndTest {
    private static final int BLOCK = 4;
    /** Eight blocks shared by every document prompt. */
    private static final int SYSTEM = 32;
    /** Twenty blocks per document. */
    private static final int DOCUMENT = 80;

    private static final int DOCUMENTS = 6;
    private static final List<ConnectorProvider> CHILDREN = List.of(new OffloadConnectorProvider());

    private static Map<String, Object> tier(String capacity, String load, long storeThreshold) {
        return Map.of(
                "name",
                "offload",
                "config",
                Map.of("capacity", capacity, "load", load, "store_threshold", storeThreshold));
    }

    private static Map<String, Object> firstTier(String load) {
        return tier("16KiB", load, 3);
    }

    private static Map<String, Object> secondTier(String load) {
        return tier("1MiB", load, 0);
    }

    @Test
    void asynchronousTiersComposeOneLoadAndServeMoreThanTheFirstTierAlone() throws Exception {
        assertComposes("async");
    }

    @Test
    void synchronousTiersComposeOneLoadAndServeMoreThanTheFirstTierAlone() throws Exception {
        assertComposes("sync");
    }

    private static void assertComposes(String load) throws Exception {
        Run baseline = run(Optional.empty(), Map.of());
        Run firstAlone = run(Optional.of(new MultiConnectorProvider()), Map.of("connectors", List.of(firstTier(load))));
        Run composed = run(
                Optional.of(new MultiConnectorProvider()),
                Map.of("connectors", List.of(firstTier(load), secondTier(load))));

        assertSameOutputs(baseline, firstAlone);
        assertSameOutputs(baseline, composed);
        long composedFirst =
                composed.stats().getOrDefault("0:offload.hit_tokens", 0).longValue();
        long composedSecond =
                composed.stats().getOrDefault("1:offload.hit_tokens", 0).longValue();
        System.out.printf(
                "composed tiers (%s): first tier alone %d hit tokens; composed %d (first tier %d, second tier %d)%n",
                load, firstAlone.hitTokens(), composed.hitTokens(), composedFirst, composedSecond);
        assertEquals(composed.hitTokens(), composedFirst + composedSecond);
        // Each re-asked document: the first tier serves the system prompt (all but what survived in
        // the GPU prefix cache), the second tier the whole document after it.
        assertTrue(composedSecond >= (long) (DOCUMENTS - 1) * DOCUMENT, composed.toString());
        assertTrue(composedFirst > 0, composed.toString());
        assertTrue(
                composed.hitTokens() > firstAlone.hitTokens() + (long) (DOCUMENTS - 1) * DOCUMENT, composed.toString());
        assertEquals(0L, composed.counts().get("load_failures"));
    }

    /**
     * @param outputs each request's output tokens
     * @param hitTokens external tokens the engine loaded from the connector
     * @param counts the engine's scheduler counters
     * @param stats the connector's stats (per child)
     */
    private record Run(
            Map<String, int[]> outputs, long hitTokens, Map<String, Long> counts, Map<String, Number> stats) {}

    /**
     * Each document once; then for each document some unrelated traffic that fills the GPU prefix
     * cache, and the document again. One request at a time, drained; fails on any problem.
     */
    private static Run run(Optional<ConnectorProvider> provider, Map<String, Object> config) throws Exception {
        Map<String, int[]> outputs = new TreeMap<>();
        KitEngine.Options options = KitEngine.Options.defaults("tiers")
                .withWorkers(2)
                .withGpuBlocks(48)
                .withBlockSize(BLOCK);
        try (KitEngine engine = KitEngine.create(provider, CHILDREN, config, options)) {
            List<String> order = new ArrayList<>();
            for (int d = 0; d < DOCUMENTS; d++) {
                order.add("doc" + d);
            }
            for (int d = 0; d < DOCUMENTS; d++) {
                order.add("flush" + d);
                order.add("again" + d);
            }
            for (String id : order) {
                engine.addRequest(id, prompt(id), 6, TransferParams.empty());
                for (int step = 0; step < 100_000 && engine.hasWork(); step++) {
                    engine.step().forEach(f -> outputs.put(f.requestId(), f.outputTokens()));
                }
            }
            assertEquals(List.of(), engine.problems());
            assertEquals(0, engine.kvMismatches());
            assertEquals(order.size(), outputs.size());
            Map<String, Long> counts = engine.schedulerCounts();
            return new Run(outputs, counts.get("connector_hit_tokens"), counts, engine.connectorStats());
        }
    }

    /**
     * {@code docN} and {@code againN}: the system prompt, document N, and a question (the same
     * one, so the document's blocks are a prefix hit); {@code flushN}: 180 tokens of their own.
     */
    private static int[] prompt(String id) {
        if (id.startsWith("flush")) {
            int n = Integer.parseInt(id.substring(5));
            int[] p = new int[180];
            for (int t = 0; t < p.length; t++) {
                p[t] = 50_000 + 1000 * n + t;
            }
            return p;
        }
        int d = Integer.parseInt(id.substring(id.startsWith("doc") ? 3 : 5));
        int[] p = new int[SYSTEM + DOCUMENT + 6];
        for (int t = 0; t < p.length; t++) {
            p[t] = t < SYSTEM ? 100 + t : 10_000 + 1000 * d + t;
        }
        return p;
    }

    private static void assertSameOutputs(Run expected, Run actual) {
        assertEquals(expected.outputs().keySet(), actual.outputs().keySet());
        expected.outputs()
                .forEach((id, tokens) ->
                        assertArrayEquals(tokens, actual.outputs().get(id), id));
    }
}
