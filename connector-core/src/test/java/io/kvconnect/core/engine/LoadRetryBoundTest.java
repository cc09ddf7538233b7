package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.FailMode;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A failed load is never offered again in a loop: a connector that always offers a hit whose
 * first block always fails gets at most one more load per request (never of the failed block), and
 * every request finishes by recomputation in bounded steps, with the output of a run without it.
 */
class LoadRetryBoundTest {
    private static final int[] PROMPT = prompt(91, 26);
    private static final int MAX_TOKENS = 4;
    /** Far fewer steps than a lookup-then-fail loop would take; generous for four small requests. */
    private static final int STEP_BOUND = 400;

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (LoadMode mode : List.of(LoadMode.ASYNC, LoadMode.SYNC_START, LoadMode.SYNC_LAYER)) {
            for (boolean async : List.of(false, true)) {
                for (int workers : List.of(1, 2)) {
                    for (int failedBlock : List.of(0, 3)) {
                        all.add(Arguments.of(mode, async, workers, failedBlock));
                    }
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} asyncScheduling={1} workers={2} failedBlock={3}")
    @MethodSource("cases")
    void aLoadThatAlwaysFailsIsRetriedOnceAtMostThenRecomputed(
            LoadMode mode, boolean async, int workers, int failedBlock) throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        List<String> ids = List.of("r0", "r1", "r2", "r3");
        for (String id : ids) {
            prompts.put(id, PROMPT);
        }
        Map<String, int[]> expected = reference(1, false, prompts, MAX_TOKENS);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(mode)
                .failEveryTime((id, index) -> id.startsWith("r") && index == failedBlock, FailMode.GARBAGE)
                .build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.RECOMPUTE), connector)) {
            seedStore(engine, "seed", PROMPT, MAX_TOKENS);
            for (String id : ids) {
                engine.addRequest(id, PROMPT, MAX_TOKENS);
                // One at a time: each must find the connector's hit, not the previous one's blocks.
                drain(engine, STEP_BOUND);
                assertTrue(engine.scheduler().resetPrefixCache(), "prefix cache reset");
            }
            for (String id : ids) {
                assertArrayEquals(expected.get(id), engine.metrics().outputs().get(id), id);
                List<Long> loads = connector.calls("updateStateAfterAlloc", id).stream()
                        .map(c -> c.value())
                        .filter(v -> v > 0)
                        .toList();
                assertTrue(!loads.isEmpty() && loads.size() <= 2, id + " was given loads " + loads);
                // After the failure: only what lies before the failed block (4 tokens a block).
                for (long retry : loads.subList(1, loads.size())) {
                    assertTrue(
                            retry <= failedBlock * 4L,
                            id + " was given a load reaching the failed block again: " + loads);
                }
            }
            assertEquals(0, engine.metrics().mismatches(), "KV read wrong and used");
            assertClean(engine, connector, ids, false);
        }
    }
}
