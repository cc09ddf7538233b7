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
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * (c) Aborts at every point of a request's life: waiting, waiting for remote KV, running, and
 * finished with its free delayed. {@code requestFinished} is called exactly once in every case and
 * nothing stays held.
 */
class AbortLifecycleTest {
    static Stream<Arguments> modes() {
        return ConnectorTestSupport.modes();
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void abortWhileWaitingFinishesItOnceAndLeavesOthersAlone(int workers, boolean async) throws Exception {
        int[] other = prompt(31, 14);
        Map<String, int[]> expected = reference(1, false, Map.of("other", other), 5);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().askLater("deferred", 1_000).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            engine.addRequest("queued", prompt(32, 10), 5);
            engine.abort("queued");
            engine.addRequest("deferred", prompt(33, 10), 5);
            engine.addRequest("other", other, 5);
            for (int i = 0; i < 3; i++) {
                engine.step();
            }
            assertEquals(Optional.of(RequestStatus.WAITING), status(engine, "deferred"));
            engine.abort("deferred");
            engine.abort("deferred");
            drain(engine);
            assertEquals(0, connector.count("getNumNewMatchedTokens", "queued"), "an aborted request was matched");
            assertEquals(
                    RequestStatus.FINISHED_ABORTED.ordinal(),
                    connector.calls("requestFinished", "deferred").getFirst().value());
            assertEquals(2, engine.scheduler().stats().requestsAborted());
            assertArrayEquals(expected.get("other"), engine.metrics().outputs().get("other"));
            assertClean(engine, connector, List.of("queued", "deferred", "other"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void abortWhileWaitingForRemoteKvHoldsBlocksUntilTheLoadReports(int workers, boolean async) throws Exception {
        int[] p = prompt(34, 21);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(4).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 4);
            engine.addRequest("b", p, 4);
            stepUntil(
                    engine,
                    () -> status(engine, "b").orElse(null) == RequestStatus.WAITING_FOR_REMOTE_KV,
                    "b waits for remote KV");
            engine.abort("b");
            assertEquals(Optional.of(RequestStatus.FINISHED_ABORTED), status(engine, "b"));
            assertTrue(engine.scheduler().view().heldForReceiving().contains("b"), "abort dropped the in-flight load");
            assertTrue(engine.scheduler().view().kvCacheManager().owns("b"), "blocks freed while a load writes them");
            int held = stepUntil(
                    engine, () -> engine.scheduler().view().findRequest("b").isEmpty(), "b's blocks freed");
            assertTrue(held >= 1, "blocks freed before the load reported");
            assertEquals(workers, connector.calls("reportStep.receiving", "b").size(), "the load reported");
            assertTrue(engine.metrics().outputs().get("b").length == 0, "an aborted load produced tokens");
            drain(engine);
            assertEquals(1, connector.count("requestFinished", "b"));
            assertClean(engine, connector, List.of("seed", "b"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void abortWhileRunningFreesItsBlocksAndKeepsEarlierTokens(int workers, boolean async) throws Exception {
        int[] p = prompt(35, 18);
        Map<String, int[]> expected = reference(1, false, Map.of("b", p), 12);
        HostCacheTestConnector connector =
                new HostCacheTestConnector(TestConnectorConfig.builder().build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            engine.addRequest("b", p, 12);
            stepUntil(
                    engine,
                    () -> engine.scheduler()
                                    .view()
                                    .findRequest("b")
                                    .orElseThrow()
                                    .numTokens()
                            >= p.length + 3,
                    "b has three tokens");
            engine.abort("b");
            drain(engine);
            int[] out = engine.metrics().outputs().get("b");
            assertTrue(out.length >= 3 && out.length < 12, "tokens kept: " + out.length);
            assertArrayEquals(Arrays.copyOf(expected.get("b"), out.length), out);
            assertEquals(
                    RequestStatus.FINISHED_ABORTED.ordinal(),
                    connector.calls("requestFinished", "b").getFirst().value());
            assertClean(engine, connector, List.of("b"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void abortAfterFinishDuringDelayedFreeIsIgnored(int workers, boolean async) throws Exception {
        int[] p = prompt(36, 15);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().delayFree(4).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            engine.addRequest("b", p, 4);
            stepUntil(engine, () -> engine.metrics().outputs().containsKey("b"), "b finished");
            assertTrue(engine.scheduler().view().heldForSending().contains("b"), "delayed free not honoured");
            engine.abort("b");
            assertEquals(0, engine.scheduler().stats().requestsAborted(), "a finished request was aborted");
            assertEquals(Optional.of(RequestStatus.FINISHED_LENGTH_CAPPED), status(engine, "b"));
            drain(engine);
            assertFalse(engine.scheduler().view().heldForSending().contains("b"));
            assertEquals(1, connector.count("requestFinished", "b"));
            assertClean(engine, connector, List.of("b"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void abortWhileRunningWithDelayedFreeHoldsBlocksUntilSent(int workers, boolean async) throws Exception {
        int[] p = prompt(37, 15);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().delayFree(3).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            engine.addRequest("b", p, 10);
            stepUntil(
                    engine,
                    () -> engine.scheduler()
                                    .view()
                                    .findRequest("b")
                                    .orElseThrow()
                                    .numTokens()
                            > p.length,
                    "b has a token");
            engine.abort("b");
            assertTrue(engine.scheduler().view().heldForSending().contains("b"), "aborted request's free not delayed");
            drain(engine);
            assertEquals(1, connector.calls("reportStep.sending", "b").size() / workers);
            assertClean(engine, connector, List.of("b"), true);
        }
    }

    /**
     * Rank 0 reports the load finished, the request is aborted, then rank 1 reports: the partial
     * count must survive the abort, or the blocks stay held forever.
     */
    @ParameterizedTest(name = "workers={0}")
    @ValueSource(ints = {1, 2})
    void abortDuringAFailingSynchronousLoadBlamesNoLaterOwnerOfItsBlocks(int workers) throws Exception {
        int[] p = prompt(40, 17);
        int[] next = prompt(41, 17);
        Map<String, int[]> expected = reference(1, false, Map.of("next", next), 4);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(TestConnectorConfig.LoadMode.SYNC_START)
                .failLoads((id, index) -> id.equals("b") && index == 3, TestConnectorConfig.FailMode.GARBAGE)
                .build());
        // Six blocks: "next" runs in the blocks b's failing load wrote, the failed one among them.
        try (Engine engine = ConnectorTestSupport.engine(setup(6, workers, true, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 4);
            engine.addRequest("b", p, 4);
            // Asynchronous scheduling: b's step, with its load, is on the workers when step() returns.
            stepUntil(engine, () -> status(engine, "b").orElse(null) == RequestStatus.RUNNING, "b admitted");
            engine.abort("b");
            engine.addRequest("next", next, 4);
            engine.step();
            long failed = connector.calls("loadFails", "b").getFirst().value();
            assertTrue(
                    engine.scheduler()
                            .view()
                            .requestState("next")
                            .orElseThrow()
                            .blocks()
                            .contains((int) failed),
                    "next did not get the block whose load failed");
            drain(engine);
            assertEquals(workers, connector.calls("loadFails", "b").size(), "b's load failed");
            assertArrayEquals(expected.get("next"), engine.metrics().outputs().get("next"));
            assertEquals(null, engine.metrics().failures().get("next"), "the failure was blamed on next");
            assertClean(engine, connector, List.of("seed", "b", "next"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void abortAfterTheLoadWasReceivedButBeforeItsPromotionFreesTheBlocksAtOnce(int workers, boolean async)
            throws Exception {
        int[] p = prompt(39, 21);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 4);
            engine.addRequest("b", p, 4);
            stepUntil(
                    engine,
                    () -> engine.scheduler().view().finishedReceivingIds().contains("b"),
                    "b's load received, not yet promoted");
            assertEquals(Optional.of(RequestStatus.WAITING_FOR_REMOTE_KV), status(engine, "b"));
            engine.abort("b");
            assertFalse(engine.scheduler().view().kvCacheManager().owns("b"), "blocks of a received load still held");
            assertTrue(engine.scheduler().view().findRequest("b").isEmpty(), "b still known after its abort");
            assertFalse(engine.scheduler().view().finishedReceivingIds().contains("b"), "a promotion left behind");
            drain(engine);
            assertEquals(0, engine.metrics().outputs().get("b").length, "an aborted load produced tokens");
            assertClean(engine, connector, List.of("seed", "b"), true);
        }
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void abortBetweenTheRanksReportsOfALoadStillFreesItsBlocks(boolean async) throws Exception {
        int[] p = prompt(38, 21);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).rankSkew(4).build());
        try (Engine engine = ConnectorTestSupport.engine(setup(64, 2, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, 4);
            engine.addRequest("b", p, 4);
            stepUntil(engine, () -> connector.calls("reportStep.receiving", "b").size() == 1, "rank 0 reported");
            engine.step();
            assertEquals(1, connector.calls("reportStep.receiving", "b").size(), "rank 1 reported too early");
            engine.abort("b");
            assertTrue(engine.scheduler().view().heldForReceiving().contains("b"));
            drain(engine);
            assertEquals(2, connector.calls("reportStep.receiving", "b").size());
            assertClean(engine, connector, List.of("seed", "b"), true);
        }
    }

    /** The same for a delayed free whose ranks report the send at different steps. */
    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void abortOfAnIdleRequestWhoseRanksReportTheSendApartStillFreesItsBlocks(boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().delayFree(0).rankSkew(3).build());
        try (Engine engine = ConnectorTestSupport.engine(setup(64, 2, async, LoadFailurePolicy.FAIL), connector)) {
            // Aborted before it ever runs: its finish reaches the workers in an otherwise empty step.
            engine.addRequest("b", prompt(39, 9), 4);
            engine.abort("b");
            drain(engine);
            assertEquals(2, connector.calls("reportStep.sending", "b").size());
            assertClean(engine, connector, List.of("b"), true);
        }
    }
}
