package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.concat;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.kvconnect.core.engine.testconnector.Call;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.FailMode;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.ThrowSpec;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Everything at once, from a seed: requests sharing document prefixes arrive at random steps on a
 * small pool, some are aborted at random points, loads fail now and then (policy FAIL or
 * RECOMPUTE), one hook throws for one request, one request is asked about later, frees are
 * delayed, finished reports are skewed across ranks or name unknown requests. Every request that
 * was neither aborted nor failed produces its reference output, every aborted one a prefix of it,
 * every failed one names why, and nothing leaks.
 *
 * <p>Found, with more seeds than run here: the aggregator counts lost on abort (fixed in {@code
 * Engine.step}), failed blocks blamed on their next owner and the stall that followed, waiting
 * requests starving the queue (fixed in {@code Scheduler}).
 */
class ConnectorSoakTest {
    private static final int SEEDS_PER_CASE = 5;
    private static final List<ThrowSpec> THROWS = List.of(
            ThrowSpec.schedulerOnce("getNumNewMatchedTokens", "q3"),
                    ThrowSpec.schedulerOnce("updateStateAfterAlloc", "q3"),
            ThrowSpec.schedulerOnce("buildConnectorMetadata", "q3"), ThrowSpec.schedulerOnce("requestFinished", "q3"),
            ThrowSpec.workerOnce("startLoadKv", "q3"), ThrowSpec.workerOnce("bindConnectorMetadata", "q3"));

    @ParameterizedTest(name = "seeds from {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void randomWorkloadWithEveryKnobKeepsOutputsAndLeaksNothing(long first) throws Exception {
        for (long seed = first; seed < first + 12L * SEEDS_PER_CASE; seed += 12) {
            soak(seed);
        }
    }

    /** One seeded run; package-private so a failing seed can be replayed alone. */
    static void soak(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        int workers = 1 + random.nextInt(2);
        boolean async = random.nextBoolean();
        LoadMode mode = List.of(LoadMode.ASYNC, LoadMode.SYNC_START, LoadMode.SYNC_LAYER)
                .get(random.nextInt(3));
        LoadFailurePolicy policy = random.nextBoolean() ? LoadFailurePolicy.RECOMPUTE : LoadFailurePolicy.FAIL;
        int failEvery = 5 + random.nextInt(5);
        TestConnectorConfig.Builder config = TestConnectorConfig.builder()
                .loadMode(mode)
                .failLoads(
                        (id, index) -> Math.floorMod(id.hashCode() * 31 + index, failEvery) == 0,
                        random.nextBoolean() ? FailMode.GARBAGE : FailMode.SKIP_COPY)
                .delayFree(random.nextInt(4) - 1)
                // Repeated receive reports are left out: a repeat that arrives after the request
                // started another load of the same id is taken for that load's completion (an
                // engine/API limitation, reported separately).
                .duplicateReports(mode == LoadMode.ASYNC ? 0 : random.nextInt(2))
                .rankSkew(random.nextInt(2))
                .unknownReports(random.nextInt(3))
                .askLater("q5", random.nextInt(4));
        if (mode == LoadMode.ASYNC) {
            config.asyncLoads(random.nextInt(4));
        }
        ThrowSpec thrown = random.nextInt(3) == 0 ? null : THROWS.get(random.nextInt(THROWS.size()));
        if (thrown != null) {
            config.throwing(thrown);
        }
        HostCacheTestConnector connector = new HostCacheTestConnector(config.build());
        String what = "seed " + seed + ": workers " + workers + ", async " + async + ", " + mode + ", " + policy
                + ", throws " + thrown + ", " + connector.config();

        int[][] docs = new int[4][];
        for (int d = 0; d < docs.length; d++) {
            docs[d] = TestEngines.prompt(random, 8 + random.nextInt(14));
        }
        Map<String, int[]> prompts = new LinkedHashMap<>();
        Map<String, Integer> arrival = new LinkedHashMap<>();
        Map<String, Integer> abortAt = new LinkedHashMap<>();
        for (int i = 0; i < 24; i++) {
            String id = "q" + i;
            prompts.put(
                    id, concat(docs[random.nextInt(docs.length)], TestEngines.prompt(random, 1 + random.nextInt(9))));
            arrival.put(id, random.nextInt(60));
            if (random.nextInt(6) == 0) {
                abortAt.put(id, arrival.get(id) + random.nextInt(8));
            }
        }
        int maxTokens = 6;
        Map<String, int[]> expected = reference(1, false, prompts, maxTokens);
        Set<String> added = new HashSet<>();
        try (Engine engine = ConnectorTestSupport.engine(setup(20, workers, async, policy), connector)) {
            try {
                for (int step = 0; step < 80; step++) {
                    for (String id : prompts.keySet()) {
                        if (arrival.get(id) == step) {
                            engine.addRequest(id, prompts.get(id), maxTokens);
                            added.add(id);
                        }
                        if (abortAt.getOrDefault(id, -1) == step && added.contains(id)) {
                            engine.abort(id);
                        }
                    }
                    engine.step();
                }
                drain(engine);
                for (String id : prompts.keySet()) {
                    int[] out = engine.metrics().outputs().get(id);
                    if (out == null) {
                        fail(id + " never finished");
                    }
                    String reason = engine.metrics().failures().get(id);
                    if (reason != null && !abortAt.containsKey(id)) {
                        assertTrue(
                                reason.contains("KV load failed") || (thrown != null && reason.contains(thrown.hook())),
                                id + " failed: " + reason);
                        continue;
                    }
                    int[] want =
                            abortAt.containsKey(id) ? Arrays.copyOf(expected.get(id), out.length) : expected.get(id);
                    assertArrayEquals(want, out, id);
                }
                assertClean(engine, connector, prompts.keySet(), false);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(what + "\n" + ConnectorTestSupport.state(engine) + "\n" + tail(connector), e);
            }
        }
    }

    /** The last calls of the connector, for a failure message. */
    private static String tail(HostCacheTestConnector connector) {
        List<Call> calls = connector.calls();
        return "last calls: " + calls.subList(Math.max(0, calls.size() - 60), calls.size());
    }
}
