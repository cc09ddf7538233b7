package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.assertSameOutputs;
import static io.kvconnect.core.engine.ConnectorTestSupport.concat;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.multiTurn;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * (j) Regression for connectors under asynchronous scheduling: under asynchronous scheduling
 * the next step is scheduled before the previous step's tokens are known, and a connector that
 * saves or sends KV by {@code numComputedTokens()} must never see positions whose KV is not yet
 * written and confirmed. The test connector checks, in every scheduler-side hook, that
 * {@code numComputedTokens()} stays within what processed steps, local hits and finished loads
 * account for, and in {@code buildConnectorMetadata} that {@code numComputedTokens() +
 * numOutputPlaceholders()} stays within the step's {@code numComputedTokensBefore}; it also saves
 * blocks on the strength of {@code numComputedTokens()} and compares every block computed again
 * with its stored copy. These checks fail if the engine reported the scheduled count instead.
 */
class AsyncSchedulingComputedTokensTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(1, LoadMode.ASYNC),
                Arguments.of(2, LoadMode.ASYNC),
                Arguments.of(1, LoadMode.SYNC_START),
                Arguments.of(2, LoadMode.SYNC_LAYER));
    }

    @ParameterizedTest(name = "workers={0} loads={1}")
    @MethodSource("cases")
    void connectorNeverSeesUnconfirmedComputedTokensInAMultiTurnChat(int workers, LoadMode mode) throws Exception {
        Map<String, int[]> expected;
        try (Engine plain = new Engine(setup(32, 1, false, LoadFailurePolicy.FAIL))) {
            expected = multiTurn(plain, 6, 3, 5);
        }
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().loadMode(mode).build());
        try (Engine engine = ConnectorTestSupport.engine(setup(32, workers, true, LoadFailurePolicy.FAIL), connector)) {
            Map<String, int[]> actual = multiTurn(engine, 6, 3, 5);
            assertSameOutputs(expected, actual);
            assertTrue(connector.placeholderChecks() > 0, "no hook ever saw a request with placeholders");
            assertTrue(connector.confirmedSaves() > 0, "no save was made on the strength of numComputedTokens()");
            assertTrue(
                    connector.verifiedBlocks() > 0 || engine.scheduler().stats().connectorHits() > 0);
            assertClean(engine, connector, expected.keySet(), true);
        }
    }

    @ParameterizedTest(name = "workers={0} loads={1}")
    @MethodSource("cases")
    void connectorNeverSeesUnconfirmedComputedTokensAcrossAbortsAndPreemptions(int workers, LoadMode mode)
            throws Exception {
        int[] system = prompt(121, 10);
        Map<String, int[]> prompts = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
            prompts.put("r" + i, concat(system, prompt(122 + i, 4 + 3 * (i % 4))));
        }
        Map<String, int[]> expected = reference(1, false, prompts, 10);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().loadMode(mode).delayFree(1).build());
        try (Engine engine = ConnectorTestSupport.engine(setup(18, workers, true, LoadFailurePolicy.FAIL), connector)) {
            List<String> aborted = new ArrayList<>();
            int step = 0;
            for (Map.Entry<String, int[]> e : prompts.entrySet()) {
                engine.addRequest(e.getKey(), e.getValue(), 10);
                engine.step();
                engine.step();
                if (++step % 4 == 0) {
                    engine.abort(e.getKey());
                    aborted.add(e.getKey());
                }
            }
            drain(engine);
            for (String id : prompts.keySet()) {
                int[] out = engine.metrics().outputs().get(id);
                int[] want = expected.get(id);
                int n = aborted.contains(id) ? out.length : want.length;
                assertEquals(Arrays.toString(Arrays.copyOf(want, n)), Arrays.toString(out), id);
            }
            assertTrue(engine.scheduler().stats().preemptions() > 0, "no preemption");
            assertTrue(connector.placeholderChecks() > 0, "no hook ever saw a request with placeholders");
            assertClean(engine, connector, prompts.keySet(), true);
        }
    }
}
