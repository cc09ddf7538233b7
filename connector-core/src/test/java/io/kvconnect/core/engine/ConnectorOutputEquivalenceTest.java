package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.assertSameOutputs;
import static io.kvconnect.core.engine.ConnectorTestSupport.multiTurn;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * (a) A multi-turn workload on a GPU pool too small to keep the conversations' prefixes: with the
 * host-cache connector the later turns load their history from the store, and every output equals
 * the output without a connector.
 */
class ConnectorOutputEquivalenceTest {
    private static final int POOL = 32;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(1, false, LoadMode.ASYNC), Arguments.of(1, true, LoadMode.ASYNC),
                Arguments.of(2, false, LoadMode.ASYNC), Arguments.of(2, true, LoadMode.ASYNC),
                Arguments.of(1, false, LoadMode.SYNC_START), Arguments.of(2, true, LoadMode.SYNC_START),
                Arguments.of(1, true, LoadMode.SYNC_LAYER), Arguments.of(2, false, LoadMode.SYNC_LAYER));
    }

    @ParameterizedTest(name = "workers={0} async={1} loads={2}")
    @MethodSource("cases")
    void multiTurnOutputsWithConnectorEqualOutputsWithout(int workers, boolean async, LoadMode mode) throws Exception {
        Map<String, int[]> expected;
        try (Engine plain = new Engine(setup(POOL, workers, async, LoadFailurePolicy.FAIL))) {
            expected = multiTurn(plain, 6, 3, 11);
            assertClean(plain, null, expected.keySet(), true);
        }
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().loadMode(mode).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(POOL, workers, async, LoadFailurePolicy.FAIL), connector)) {
            Map<String, int[]> actual = multiTurn(engine, 6, 3, 11);
            assertSameOutputs(expected, actual);
            assertTrue(engine.scheduler().stats().connectorHits() > 0, "the connector provided no token");
            assertTrue(connector.storedBlocks() > 0, "nothing was stored");
            if (mode == LoadMode.ASYNC) {
                assertTrue(engine.scheduler().stats().connectorAsyncLoads() > 0, "no asynchronous load");
            }
            assertEquals(0, engine.scheduler().stats().hookFailures());
            assertClean(engine, connector, expected.keySet(), true);
        }
    }
}
