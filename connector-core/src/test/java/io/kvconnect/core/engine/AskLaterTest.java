package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static io.kvconnect.core.engine.ConnectorTestSupport.status;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.engine.testconnector.Call;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * (i) "Ask later": the request is skipped without blocks while the connector cannot decide, the
 * requests behind it are admitted meanwhile, and once the connector answers it is admitted and
 * loads what is stored.
 */
class AskLaterTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(1, false, LoadMode.ASYNC),
                Arguments.of(2, true, LoadMode.ASYNC),
                Arguments.of(1, true, LoadMode.SYNC_START),
                Arguments.of(2, false, LoadMode.SYNC_LAYER));
    }

    @ParameterizedTest(name = "workers={0} async={1} loads={2}")
    @MethodSource("cases")
    void askLaterDefersTheRequestThenAdmitsItWithItsLoad(int workers, boolean async, LoadMode mode) throws Exception {
        int[] stored = prompt(111, 18);
        int[] behind = prompt(112, 10);
        Map<String, int[]> expected = reference(1, false, Map.of("a", stored, "behind", behind), 5);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().loadMode(mode).askLater("a", 3).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", stored, 5);
            engine.addRequest("a", stored, 5);
            engine.addRequest("behind", behind, 5);
            for (int i = 0; i < 3; i++) {
                engine.step();
                assertEquals(Optional.of(RequestStatus.WAITING), status(engine, "a"), "after step " + (i + 1));
                assertTrue(!engine.scheduler().view().kvCacheManager().owns("a"), "a deferred request holds blocks");
                assertEquals(i + 1, connector.count("getNumNewMatchedTokens", "a"));
            }
            assertTrue(
                    engine.scheduler()
                                            .view()
                                            .findRequest("behind")
                                            .orElseThrow()
                                            .numTokens()
                                    > behind.length
                            || engine.metrics().outputs().containsKey("behind"),
                    "the request behind was blocked");
            drain(engine);
            List<Call> asks = connector.calls("getNumNewMatchedTokens", "a");
            assertEquals(4, asks.size(), "asked three times later, then decided");
            assertEquals(
                    1,
                    connector.calls("updateStateAfterAlloc", "a").stream()
                            .filter(c -> c.value() == 16)
                            .count(),
                    "loaded after the decision");
            assertTrue(connector.calls("updateStateAfterAlloc", "a").getFirst().seq()
                    > asks.getLast().seq());
            assertEquals(16, engine.scheduler().stats().connectorHits());
            assertArrayEquals(expected.get("a"), engine.metrics().outputs().get("a"));
            assertArrayEquals(expected.get("behind"), engine.metrics().outputs().get("behind"));
            assertClean(engine, connector, List.of("seed", "a", "behind"), true);
        }
    }
}
