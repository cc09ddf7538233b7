package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.assertSameOutputs;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static io.kvconnect.core.engine.ConnectorTestSupport.stepUntil;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two requests squeezed by each other's asynchronous loads must not take turns forever.
 *
 * <p>On a pool of 10 blocks, "a" runs with 7 blocks, full, when "b" is admitted with a long
 * asynchronous load that takes the last 3. "a" needs an 8th block for its next token; it is the
 * only running request, and the only waiting blocks are "b"'s, under a load in flight. Found by a
 * soak under asynchronous scheduling: if "a" preempts itself, it is readmitted with a load of its
 * own (its blocks are in the prefix cache and the connector's store) that takes the blocks "b"
 * needs for its first decode once promoted, so "b" preempts itself the same way, and so on: the
 * engine stepped forever. A running request now waits for waiting requests' loads in flight, and
 * then takes their blocks back, instead of giving up its own.
 */
class LoadSqueezeLivenessTest {
    private static final int MAX_TOKENS = 15;

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void requestsSqueezedByEachOthersLoadsStillFinish(int workers, boolean async) throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("a", prompt(801, 21));
        prompts.put("b", prompt(802, 12));
        Map<String, int[]> expected = reference(1, false, prompts, MAX_TOKENS);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(4).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(10, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", prompts.get("b"), 1);
            engine.addRequest("a", prompts.get("a"), MAX_TOKENS);
            stepUntil(engine, () -> engine.scheduler().view().kvCacheManager().numBlocks("a") == 7, "a holds 7 blocks");
            engine.addRequest("b", prompts.get("b"), MAX_TOKENS);
            drain(engine, 300);
            Map<String, int[]> outputs = new LinkedHashMap<>(engine.metrics().outputs());
            outputs.remove("seed");
            assertSameOutputs(expected, outputs);
            assertTrue(
                    engine.scheduler().stats().preemptions() <= 4,
                    "thrashing: " + engine.scheduler().stats().preemptions() + " preemptions");
            assertClean(engine, connector, List.of("seed", "a", "b"), true);
        }
    }
}
