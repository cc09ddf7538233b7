package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.assertSameOutputs;
import static io.kvconnect.core.engine.ConnectorTestSupport.concat;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * (e) Preemption with a connector: on a tiny pool requests are preempted again and again; when
 * they resume, the connector offers what it saved of them (prompt and generated tokens), and every
 * output still equals the output without a connector.
 */
class PreemptionWithConnectorTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(1, false, LoadMode.ASYNC), Arguments.of(1, true, LoadMode.ASYNC),
                Arguments.of(2, false, LoadMode.SYNC_START), Arguments.of(2, true, LoadMode.SYNC_START),
                Arguments.of(1, true, LoadMode.SYNC_LAYER), Arguments.of(2, true, LoadMode.ASYNC));
    }

    @ParameterizedTest(name = "workers={0} async={1} loads={2}")
    @MethodSource("cases")
    void preemptedRequestsResumeFromTheStoreWithUnchangedOutputs(int workers, boolean async, LoadMode mode)
            throws Exception {
        int[] system = prompt(60, 8);
        Map<String, int[]> prompts = new LinkedHashMap<>();
        for (int i = 0; i < 8; i++) {
            prompts.put("r" + i, concat(system, prompt(61 + i, 6 + 2 * i)));
        }
        Map<String, int[]> expected = reference(1, false, prompts, 12);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().loadMode(mode).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(16, workers, async, LoadFailurePolicy.FAIL), connector)) {
            prompts.forEach((id, p) -> engine.addRequest(id, p, 12));
            drain(engine);
            assertSameOutputs(expected, engine.metrics().outputs());
            assertTrue(engine.scheduler().stats().preemptions() > 0, "no preemption");
            assertTrue(engine.scheduler().stats().connectorHits() > 0, "resumed requests loaded nothing");
            assertClean(engine, connector, prompts.keySet(), true);
        }
    }

    /**
     * A long request is preempted while two requests that finished their asynchronous loads wait
     * behind it holding blocks: the long request, now first in line, cannot be admitted, nothing
     * runs, and without reclaiming the waiting requests' blocks the engine would step forever.
     */
    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void waitingRequestsHoldingLoadedBlocksDoNotStarveTheHeadOfTheQueue(int workers, boolean async) throws Exception {
        int[] head = prompt(70, 20);
        int[] w1 = prompt(71, 13);
        int[] w2 = prompt(72, 13);
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("head", head);
        prompts.put("w1", w1);
        prompts.put("w2", w2);
        Map<String, int[]> expected = reference(1, false, prompts, 20);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(12, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed1", w1, 1);
            seedStore(engine, "seed2", w2, 1);
            engine.addRequest("head", head, 20);
            engine.step();
            engine.addRequest("w1", w1, 20);
            engine.addRequest("w2", w2, 20);
            drain(engine);
            for (String id : prompts.keySet()) {
                assertArrayEquals(expected.get(id), engine.metrics().outputs().get(id), id);
            }
            assertTrue(engine.scheduler().stats().preemptions() > 0, "no preemption");
            assertTrue(engine.scheduler().stats().connectorAsyncLoads() >= 2, "no asynchronous load");
            assertClean(engine, connector, List.of("seed1", "seed2", "head", "w1", "w2"), true);
        }
    }
}
