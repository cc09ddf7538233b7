package io.kvconnect.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.testkit.KitEngine;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/** Runs prompts through kit engines with and without the redis connector, for the tests. */
final class Engines {
    static final int MAX_STEPS = 100_000;

    private Engines() {}

    /** {@code n} prompts of 20 to 60 tokens, every second one sharing a 32-token prefix. */
    static List<int[]> prompts(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] shared = random.ints(32, 1, 1000).toArray();
        List<int[]> out = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] own = random.ints(20 + random.nextInt(40), 1, 1000).toArray();
            if (i % 2 == 1) {
                int[] p = Arrays.copyOf(shared, shared.length + own.length);
                System.arraycopy(own, 0, p, shared.length, own.length);
                own = p;
            }
            out.add(own);
        }
        return out;
    }

    static Map<String, Object> config(String... servers) {
        return Map.of("servers", List.of(servers));
    }

    static KitEngine engine(String id, Map<String, Object> config, int workers) {
        return KitEngine.create(Optional.of(new RedisConnectorProvider()), config, options(id, workers));
    }

    static KitEngine engine(
            ConnectorProvider provider,
            List<? extends ConnectorProvider> others,
            String id,
            Map<String, Object> config,
            int workers) {
        return KitEngine.create(Optional.of(provider), others, config, options(id, workers));
    }

    static KitEngine.Options options(String id, int workers) {
        return KitEngine.Options.defaults(id).withWorkers(workers).withRecomputeOnLoadFailure(true);
    }

    /** The outputs of {@code prompts} without any connector. */
    static Map<String, List<Integer>> baseline(List<int[]> prompts, int workers) throws InterruptedException {
        try (KitEngine e = KitEngine.create(Optional.empty(), Map.of(), options("baseline", workers))) {
            return run(e, prompts);
        }
    }

    /**
     * Runs {@code prompts} (4 output tokens each) until the engine has no work left, stores
     * included; checks that every request stopped normally and no KV mismatched.
     */
    static Map<String, List<Integer>> run(KitEngine e, List<int[]> prompts) throws InterruptedException {
        Map<String, List<Integer>> out = batch(e, prompts, "r");
        assertEquals(List.of(), e.problems());
        return out;
    }

    /**
     * As {@link #run} for one of several batches of one engine: request ids start with {@code
     * prefix} (the outputs' keys do not); the engine's final checks are left to the last {@link #run}.
     */
    static Map<String, List<Integer>> batch(KitEngine e, List<int[]> prompts, String prefix)
            throws InterruptedException {
        for (int i = 0; i < prompts.size(); i++) {
            e.addRequest(prefix + i, prompts.get(i), 4, io.kvconnect.api.common.TransferParams.empty());
        }
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        int steps = 0;
        while (e.hasWork()) {
            for (KitEngine.Finished f : e.step()) {
                assertTrue(
                        f.status().startsWith("FINISHED_LENGTH") || f.status().startsWith("FINISHED_STOPPED"),
                        f.requestId() + " " + f.status() + " " + f.reason());
                out.put(
                        "r" + f.requestId().substring(prefix.length()),
                        Arrays.stream(f.outputTokens()).boxed().toList());
            }
            assertTrue(++steps < MAX_STEPS, "the engine never ran out of work");
        }
        assertEquals(prompts.size(), out.size(), "every request finished");
        assertEquals(0, e.kvMismatches(), "no wrong KV read");
        return out;
    }

    static long stat(KitEngine e, String name) {
        Number n = e.connectorStats().get(name);
        return n == null ? 0 : n.longValue();
    }
}
