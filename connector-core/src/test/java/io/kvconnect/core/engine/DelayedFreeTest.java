package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.assertSameOutputs;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static io.kvconnect.core.engine.ConnectorTestSupport.stepUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * (d) Delayed free: a finished request's blocks stay held until the workers report it sent, the
 * engine keeps stepping with no request to compute until then (liveness), and the held blocks are
 * never handed to other requests (the connector's workers compare them at the start and end of
 * the hold).
 */
class DelayedFreeTest {
    static Stream<Arguments> modes() {
        return ConnectorTestSupport.modes();
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void blocksStayHeldUntilFinishedSendingWhileTheIdleEngineKeepsStepping(int workers, boolean async)
            throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().delayFree(6).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            engine.addRequest("b", prompt(41, 19), 4);
            stepUntil(engine, () -> engine.metrics().outputs().containsKey("b"), "b finished");
            BlockPool pool = engine.scheduler().view().kvCacheManager().pool();
            int heldBlocks = engine.scheduler().view().kvCacheManager().numBlocks("b");
            assertTrue(heldBlocks >= 5, "blocks of b: " + heldBlocks);
            int idleSteps = 0;
            while (engine.scheduler().view().heldForSending().contains("b")) {
                assertFalse(engine.scheduler().hasRequests(), "no request should wait or run");
                assertTrue(engine.hasWork(), "an engine holding blocks for a send must keep stepping");
                assertEquals(
                        heldBlocks, engine.scheduler().view().kvCacheManager().numBlocks("b"));
                assertTrue(pool.numFreeBlocks() <= pool.usableBlocks() - heldBlocks, "held blocks were freed");
                engine.step();
                assertTrue(++idleSteps <= 50, "finished sending never arrived: " + ConnectorTestSupport.state(engine));
            }
            assertTrue(idleSteps >= 5, "freed after " + idleSteps + " steps, before the send finished");
            assertTrue(engine.scheduler().view().findRequest("b").isEmpty(), "b still known after its send finished");
            drain(engine);
            assertEquals(workers, connector.calls("reportStep.sending", "b").size());
            assertClean(engine, connector, List.of("b"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void heldBlocksAreNotReusedWhileOtherRequestsNeedMemory(int workers, boolean async) throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        for (int i = 0; i < 8; i++) {
            prompts.put("r" + i, prompt(50 + i, 12 + 3 * i));
        }
        Map<String, int[]> expected = reference(1, false, prompts, 6);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().delayFree(5).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(28, workers, async, LoadFailurePolicy.FAIL), connector)) {
            prompts.forEach((id, p) -> engine.addRequest(id, p, 6));
            drain(engine);
            assertSameOutputs(expected, engine.metrics().outputs());
            assertTrue(engine.scheduler().stats().preemptions() > 0, "the pool was not under pressure");
            assertClean(engine, connector, prompts.keySet(), true);
        }
    }
}
