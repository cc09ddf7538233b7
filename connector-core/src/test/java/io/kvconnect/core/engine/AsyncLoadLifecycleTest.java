package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.concat;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static io.kvconnect.core.engine.ConnectorTestSupport.status;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.engine.testconnector.Call;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * (b) The asynchronous load life cycle: a request whose prefix is stored waits for remote KV with
 * its blocks held, is promoted once its load is reported received, and computes on the loaded KV;
 * the scheduler-side hooks are called in the documented order.
 */
class AsyncLoadLifecycleTest {
    private static final Set<String> LIFECYCLE_HOOKS = Set.of(
            "onNewRequest",
            "getNumNewMatchedTokens",
            "updateStateAfterAlloc",
            "updateConnectorOutput.received",
            "requestFinished");

    static Stream<Arguments> modes() {
        return ConnectorTestSupport.modes();
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void requestWaitsForRemoteKvAndIsPromotedAfterFinishedReceiving(int workers, boolean async) throws Exception {
        int[] p = prompt(21, 17);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(2).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 5);
            engine.addRequest("b", p, 5);
            List<RequestStatus> seen = new ArrayList<>();
            int steps = 0;
            while (engine.hasWork()) {
                if (++steps > ConnectorTestSupport.MAX_STEPS) {
                    fail(ConnectorTestSupport.state(engine));
                }
                engine.step();
                Optional<RequestStatus> s = status(engine, "b");
                s.ifPresent(seen::add);
                if (s.orElse(null) == RequestStatus.WAITING_FOR_REMOTE_KV) {
                    // Awaited until reported; then received and waiting for promotion.
                    boolean received = connector
                                    .calls("updateConnectorOutput.received", "b")
                                    .size()
                            == 1;
                    assertEquals(
                            !received,
                            engine.scheduler().view().heldForReceiving().contains("b"),
                            "load awaited");
                    assertTrue(
                            engine.scheduler().view().kvCacheManager().owns("b"),
                            "blocks of a loading request not held");
                    assertTrue(engine.scheduler().view().runningRequests().stream()
                            .noneMatch(r -> r.requestId().equals("b")));
                }
            }
            assertEquals(RequestStatus.WAITING_FOR_REMOTE_KV, seen.getFirst(), "status after the admitting step");
            int lastWaiting = seen.lastIndexOf(RequestStatus.WAITING_FOR_REMOTE_KV);
            assertTrue(lastWaiting >= 1, "waited for " + (lastWaiting + 1) + " step(s) only: " + seen);
            assertEquals(RequestStatus.RUNNING, seen.get(lastWaiting + 1), "promoted to running: " + seen);
            assertEquals(16, engine.scheduler().stats().connectorHits());
            assertEquals(1, engine.scheduler().stats().connectorAsyncLoads());
            assertArrayEquals(
                    engine.metrics().outputs().get("seed"),
                    engine.metrics().outputs().get("b"));

            List<String> order = connector.schedulerCallsFor("b").stream()
                    .filter(c -> LIFECYCLE_HOOKS.contains(c.hook()))
                    .map(c -> c.hook() + (c.hook().equals("updateStateAfterAlloc") ? "=" + c.value() : ""))
                    .toList();
            assertEquals(
                    List.of(
                            "onNewRequest",
                            "getNumNewMatchedTokens",
                            "updateStateAfterAlloc=16",
                            "updateConnectorOutput.received",
                            "updateStateAfterAlloc=0",
                            "requestFinished"),
                    order);
            long loadStarted = connector.calls("startLoadKv", "b").getFirst().seq();
            for (Call reported : connector.calls("reportStep.receiving", "b")) {
                assertTrue(reported.seq() > loadStarted, "received reported before the load started");
            }
            assertEquals(workers, connector.calls("reportStep.receiving", "b").size(), "one report per rank");
            assertClean(engine, connector, List.of("seed", "b"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void loadReportedInItsOwnStepIsPromotedNextStep(int workers, boolean async) throws Exception {
        int[] p = prompt(22, 23);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(0).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 4);
            engine.addRequest("b", p, 4);
            drain(engine);
            assertEquals(20, engine.scheduler().stats().connectorHits());
            assertArrayEquals(
                    engine.metrics().outputs().get("seed"),
                    engine.metrics().outputs().get("b"));
            assertClean(engine, connector, List.of("seed", "b"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void externalRangeIsLoadedAfterTheLocalHitBlocks(int workers, boolean async) throws Exception {
        int[] p = prompt(23, 26);
        int[] prefix = Arrays.copyOf(p, 9);
        Map<String, int[]> expected = reference(1, false, Map.of("b", p), 5);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 5);
            // Only the first two blocks are in the GPU prefix cache now.
            engine.addRequest("short", prefix, 1);
            drain(engine);
            engine.addRequest("b", p, 5);
            drain(engine);
            Call match = connector.calls("getNumNewMatchedTokens", "b").getFirst();
            assertEquals(8, match.value(), "local hit tokens");
            assertEquals(
                    List.of(16L, 0L),
                    connector.calls("updateStateAfterAlloc", "b").stream()
                            .map(Call::value)
                            .toList(),
                    "external tokens after the local hit");
            assertArrayEquals(expected.get("b"), engine.metrics().outputs().get("b"));
            assertClean(engine, connector, List.of("seed", "short", "b"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void loadedHistoryOfALongerPromptContinuesCorrectly(int workers, boolean async) throws Exception {
        int[] p = prompt(24, 13);
        int[] longer = concat(p, prompt(25, 11));
        Map<String, int[]> expected = reference(1, false, Map.of("b", longer), 6);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 3);
            engine.addRequest("b", longer, 6);
            drain(engine);
            assertEquals(12, engine.scheduler().stats().connectorHits());
            assertArrayEquals(expected.get("b"), engine.metrics().outputs().get("b"));
            assertClean(engine, connector, List.of("seed", "b"), true);
        }
    }

    static Stream<Arguments> fullHits() {
        List<Arguments> all = new ArrayList<>();
        for (TestConnectorConfig.LoadMode mode :
                List.of(TestConnectorConfig.LoadMode.ASYNC, TestConnectorConfig.LoadMode.SYNC_START)) {
            for (boolean uncapped : List.of(false, true)) {
                all.add(Arguments.of(mode, uncapped, 1, false));
                all.add(Arguments.of(mode, uncapped, 2, true));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} uncapped={1} workers={2} async={3}")
    @MethodSource("fullHits")
    void blockAlignedFullPromptHitStillComputesTheLastToken(
            TestConnectorConfig.LoadMode mode, boolean uncapped, int workers, boolean async) throws Exception {
        int[] p = prompt(26, 16);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(mode)
                .uncappedMatches(uncapped)
                .build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 5);
            engine.addRequest("b", p, 5);
            drain(engine);
            assertEquals(15, engine.scheduler().stats().connectorHits(), "the engine keeps the last token to compute");
            assertEquals(
                    15L,
                    connector.calls("updateStateAfterAlloc", "b").getFirst().value());
            assertArrayEquals(
                    engine.metrics().outputs().get("seed"),
                    engine.metrics().outputs().get("b"));
            assertClean(engine, connector, List.of("seed", "b"), true);
        }
    }
}
