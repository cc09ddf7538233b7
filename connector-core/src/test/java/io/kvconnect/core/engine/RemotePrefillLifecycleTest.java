package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static io.kvconnect.core.engine.ConnectorTestSupport.status;
import static io.kvconnect.core.engine.ConnectorTestSupport.stepUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.FailMode;
import io.kvconnect.core.kv.KvCacheManager;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decode side of a prefill/decode split (the reference engine's remote prefill life cycle):
 * blocks allocated for an asynchronous load hold nothing until the load is confirmed, so no other
 * request hits them in the prefix cache and no connector sees them as computed; and a request
 * aborted while its load is in flight, whose load then fails, leaves nothing held and nothing
 * cached.
 */
@Timeout(60)
class RemotePrefillLifecycleTest {
    static Stream<Arguments> modes() {
        return ConnectorTestSupport.modes();
    }

    private static Set<Integer> blocksOf(KvCacheManager kv, String id) {
        return Arrays.stream(kv.blockIds(id)).boxed().collect(Collectors.toSet());
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void blocksStillLoadingAreNoPrefixHitForALaterRequestWithTheSamePrompt(int workers, boolean async)
            throws Exception {
        int[] p = prompt(91, 18);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(3).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 3);
            engine.addRequest("remote", p, 3);
            stepUntil(
                    engine,
                    () -> status(engine, "remote").orElse(null) == RequestStatus.WAITING_FOR_REMOTE_KV,
                    "remote waits for its load");
            KvCacheManager kv = engine.scheduler().view().kvCacheManager();
            assertEquals(
                    4, kv.numBlocks("remote"), "the blocks of the loaded range, no more, are allocated for the load");
            RequestView remote = engine.scheduler().view().findRequest("remote").orElseThrow();
            assertEquals(0, remote.numComputedTokens(), "a load in flight is not computed yet");
            assertTrue(engine.scheduler().view().heldForReceiving().contains("remote"));

            engine.addRequest("local", p, 3);
            engine.step();
            assertEquals(
                    0L,
                    connector
                            .calls("getNumNewMatchedTokens", "local")
                            .getFirst()
                            .value(),
                    "local prefix hit on blocks a load has not filled yet");
            assertTrue(engine.scheduler().view().heldForReceiving().contains("remote"), "remote's load ended early");
            assertTrue(kv.owns("local"), "local was not admitted");
            Set<Integer> shared = blocksOf(kv, "remote");
            shared.retainAll(blocksOf(kv, "local"));
            assertEquals(Set.of(), shared, "blocks shared with a request still loading");
            int[] loaded = Arrays.copyOf(kv.blockIds("remote"), 4);
            // Once the load is confirmed (promoted, and past the load failure window), its full
            // blocks are prefix hits.
            stepUntil(
                    engine,
                    () -> engine.scheduler()
                            .view()
                            .requestState("remote")
                            .map(r -> r.confirmed() >= 16)
                            .orElse(true),
                    "remote's load confirmed");
            for (int i = 0; i < loaded.length; i++) {
                assertTrue(
                        engine.scheduler()
                                .view()
                                .gpuBlockPool()
                                .cachedHash(loaded[i])
                                .isPresent(),
                        "loaded full block " + i + " not cached once confirmed");
            }
            drain(engine);
            int[] expected = engine.metrics().outputs().get("seed");
            assertArrayEquals(expected, engine.metrics().outputs().get("remote"));
            assertArrayEquals(expected, engine.metrics().outputs().get("local"));
            assertClean(engine, connector, List.of("seed", "remote", "local"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void requestsBehindALoadInFlightRunMeanwhile(int workers, boolean async) throws Exception {
        int[] p = prompt(94, 18);
        int[] other = prompt(95, 11);
        Map<String, int[]> expected = reference(1, false, Map.of("remote", p, "local", other), 4);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(4).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 4);
            engine.addRequest("remote", p, 4);
            engine.addRequest("local", other, 4);
            stepUntil(
                    engine,
                    () -> engine.scheduler()
                            .view()
                            .requestState("local")
                            .map(r -> r.numTokens() > other.length)
                            .orElse(false),
                    "local produced a token");
            assertEquals(
                    Optional.of(RequestStatus.WAITING_FOR_REMOTE_KV),
                    status(engine, "remote"),
                    "local waited for the load ahead of it");
            drain(engine);
            assertArrayEquals(expected.get("remote"), engine.metrics().outputs().get("remote"));
            assertArrayEquals(expected.get("local"), engine.metrics().outputs().get("local"));
            assertClean(engine, connector, List.of("seed", "remote", "local"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void aRequestAbortedDuringALoadThatThenFailsLeavesNothingHeldOrCached(int workers, boolean async) throws Exception {
        int[] p = prompt(92, 21);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(2)
                .failLoads((id, index) -> id.equals("b") && index == 1, FailMode.GARBAGE)
                .build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.RECOMPUTE), connector)) {
            seedStore(engine, "seed", p, 4);
            engine.addRequest("b", p, 4);
            stepUntil(
                    engine,
                    () -> status(engine, "b").orElse(null) == RequestStatus.WAITING_FOR_REMOTE_KV,
                    "b waits for its load");
            engine.abort("b");
            assertEquals(Optional.of(RequestStatus.FINISHED_ABORTED), status(engine, "b"));
            stepUntil(engine, () -> engine.scheduler().view().findRequest("b").isEmpty(), "b forgotten");
            assertFalse(engine.scheduler().view().kvCacheManager().owns("b"));
            assertEquals(workers, connector.calls("loadFails", "b").size(), "b's load failed on every rank");
            assertEquals(0, engine.metrics().outputs().get("b").length, "an aborted request produced tokens");

            // The garbage the failed load wrote is no prefix hit for the next request.
            engine.addRequest("c", p, 4);
            drain(engine);
            assertArrayEquals(
                    engine.metrics().outputs().get("seed"),
                    engine.metrics().outputs().get("c"));
            assertFalse(engine.metrics().failures().containsKey("c"));
            assertClean(engine, connector, List.of("seed", "b", "c"), true);
        }
    }
}
