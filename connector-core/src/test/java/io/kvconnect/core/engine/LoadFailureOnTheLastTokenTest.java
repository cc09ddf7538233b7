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

import io.kvconnect.core.engine.testconnector.Call;
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
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A synchronous load that fails in the step that would also finish its request (its only token, as
 * in the reference engine's failed-load tests, which stop every request in that step): under
 * {@code recompute} the request does not finish on the token computed from the failed KV, it
 * computes again and finishes with the token it would have had without the connector, while the
 * request beside it that loaded correctly finishes in that step, once.
 */
@Timeout(60)
class LoadFailureOnTheLastTokenTest {
    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (int window : new int[] {0, 1}) {
            for (int failedBlock : new int[] {0, 2}) {
                all.add(Arguments.of(window, failedBlock, 1, false));
                all.add(Arguments.of(window, failedBlock, 2, true));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "window={0} failedBlock={1} workers={2} async={3}")
    @MethodSource("cases")
    void aRequestDoesNotFinishOnATokenComputedFromAFailedLoad(int window, int failedBlock, int workers, boolean async)
            throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("ok", prompt(96, 17));
        prompts.put("victim", prompt(97, 17));
        Map<String, int[]> expected = reference(1, false, prompts, 1);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(LoadMode.SYNC_START)
                .failLoads((id, index) -> id.equals("victim") && index == failedBlock, FailMode.GARBAGE)
                .build());
        EngineSetup base = setup(64, workers, async, LoadFailurePolicy.RECOMPUTE);
        EngineSetup withWindow =
                base.withConfig(c -> c.scheduler(base.config().scheduler().withLoadFailureWindow(window)));
        try (Engine engine = ConnectorTestSupport.engine(withWindow, connector)) {
            seedStore(engine, "seed-ok", prompts.get("ok"), 1);
            seedStore(engine, "seed-victim", prompts.get("victim"), 1);
            prompts.forEach((id, p) -> engine.addRequest(id, p, 1));
            drain(engine);

            for (String id : prompts.keySet()) {
                assertArrayEquals(expected.get(id), engine.metrics().outputs().get(id), id);
            }
            assertEquals(workers, connector.calls("loadFails", "victim").size(), "the victim's load failed");
            assertEquals(1, engine.scheduler().stats().requestsRecomputed(), "requests recomputed");
            assertEquals(0, engine.scheduler().stats().requestsFailed());
            // The victim finished only after the step that reported its failed load.
            long failedAt = connector.calls("loadFails", "victim").getFirst().seq();
            long okFinished =
                    connector.calls("requestFinished", "ok").getFirst().seq();
            long victimFinished =
                    connector.calls("requestFinished", "victim").getFirst().seq();
            assertTrue(victimFinished > failedAt, "the victim finished before its load failed");
            if (window == 0 && !async) {
                // Nothing held back: the request that loaded correctly finishes in the failure's
                // step, the victim only in a later one.
                assertTrue(victimFinished > okFinished, "the victim finished in the step of its failed load");
            }
            List<Call> victimComputed = connector.calls("updateStateAfterAlloc", "victim");
            assertEquals(1, victimComputed.size(), "the victim was admitted again instead of recomputing in place");
            assertClean(engine, connector, List.of("seed-ok", "seed-victim", "ok", "victim"), true);
        }
    }
}
