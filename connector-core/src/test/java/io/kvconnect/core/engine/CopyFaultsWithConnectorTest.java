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
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Faults of the engine's copy service seen through a connector that loads with it: a failed
 * host-to-GPU copy must reach the engine as load errors for the copy's blocks (the connector
 * awaits its tickets), and the engine's load failure policy applies — FAIL finishes the request
 * with an error naming the block, RECOMPUTE computes again to the output without a connector. A
 * stalled copy keeps an asynchronous load's request waiting for remote KV, without blocking the
 * engine, until the copy ends; then it completes with the right output.
 */
class CopyFaultsWithConnectorTest {
    private static final int[] PROMPT = prompt(501, 22);
    private static final int[] BYSTANDER = prompt(502, 13);
    private static final int MAX_TOKENS = 6;

    /** Once armed, the first host-to-GPU copy of each copy stream (rank) fails. */
    private static final class FailFirstLoadPerStream implements CopyFaults {
        final Set<String> failedStreams = ConcurrentHashMap.newKeySet();
        volatile boolean armed;

        @Override
        public void beforeCopy(Direction direction, int[] blockIds) throws Exception {
            if (armed
                    && direction == Direction.FROM_HOST
                    && failedStreams.add(Thread.currentThread().getName())) {
                throw new IOException("injected copy failure of blocks " + Arrays.toString(blockIds));
            }
        }
    }

    /** Once armed, host-to-GPU copies wait until released (bounded, so a test bug cannot hang). */
    private static final class StallLoads implements CopyFaults {
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger stalled = new AtomicInteger();
        volatile boolean armed;

        @Override
        public void beforeCopy(Direction direction, int[] blockIds) throws Exception {
            if (armed && direction == Direction.FROM_HOST && release.getCount() > 0) {
                stalled.incrementAndGet();
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new TimeoutException("stalled copy never released");
                }
            }
        }
    }

    private static EngineSetup withFaults(EngineSetup s, CopyFaults faults) {
        return s.withCopyFaults(faults);
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (LoadMode mode : List.of(LoadMode.SYNC_START, LoadMode.SYNC_LAYER, LoadMode.ASYNC)) {
            for (LoadFailurePolicy policy : LoadFailurePolicy.values()) {
                all.add(Arguments.of(mode, policy, 1, false));
                all.add(Arguments.of(mode, policy, 2, true));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1} workers={2} async={3}")
    @MethodSource("cases")
    void failedLoadCopyIsALoadErrorAndThePolicyApplies(
            LoadMode mode, LoadFailurePolicy policy, int workers, boolean async) throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("seed", PROMPT);
        prompts.put("bystander", BYSTANDER);
        Map<String, int[]> expected = reference(1, false, prompts, MAX_TOKENS);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().loadMode(mode).build());
        FailFirstLoadPerStream faults = new FailFirstLoadPerStream();
        try (Engine engine = new Engine(
                withFaults(ConnectorTestSupport.with(setup(64, workers, async, policy), connector), faults))) {
            seedStore(engine, "seed", PROMPT, MAX_TOKENS);
            faults.armed = true;
            engine.addRequest("victim", PROMPT, MAX_TOKENS);
            engine.addRequest("bystander", BYSTANDER, MAX_TOKENS);
            drain(engine);
            assertEquals(workers, faults.failedStreams.size(), "copy streams whose load failed");
            assertTrue(
                    connector.calls().stream().anyMatch(c -> c.hook().equals("loadError")),
                    "the connector reported no load error");
            assertEquals(1, engine.scheduler().stats().loadFailures(), "requests hit by failed loads");
            assertArrayEquals(
                    expected.get("bystander"), engine.metrics().outputs().get("bystander"), "bystander");
            if (policy == LoadFailurePolicy.FAIL) {
                assertEquals(1L, engine.metrics().finishedByStatus().get(RequestStatus.FINISHED_ERROR));
                String reason = engine.metrics().failures().get("victim");
                assertTrue(
                        reason != null && reason.contains("KV load failed for block"), "victim failed with: " + reason);
            } else {
                assertArrayEquals(
                        expected.get("seed"), engine.metrics().outputs().get("victim"), "victim");
                assertEquals(1, engine.scheduler().stats().requestsRecomputed());
                assertEquals(0, engine.scheduler().stats().requestsFailed());
            }
            // The faults are spent: the same prefix now loads from the store and gives the right output.
            long hits = engine.scheduler().stats().connectorHits();
            assertTrue(engine.scheduler().resetPrefixCache(), "prefix cache reset");
            engine.addRequest("again", PROMPT, MAX_TOKENS);
            drain(engine);
            assertTrue(engine.scheduler().stats().connectorHits() > hits, "the later load provided nothing");
            assertArrayEquals(expected.get("seed"), engine.metrics().outputs().get("again"), "again");
            // A synchronous load fails in the step that reads it, so that step's reads mismatch; an
            // asynchronous one is reported before anything reads it.
            assertClean(engine, connector, List.of("seed", "victim", "bystander", "again"), mode == LoadMode.ASYNC);
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void stalledAsyncLoadKeepsTheRequestWaitingUntilTheCopyEnds(int workers, boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).build());
        StallLoads faults = new StallLoads();
        try (Engine engine = new Engine(withFaults(
                ConnectorTestSupport.with(setup(64, workers, async, LoadFailurePolicy.FAIL), connector), faults))) {
            try {
                seedStore(engine, "seed", PROMPT, MAX_TOKENS);
                faults.armed = true;
                engine.addRequest("b", PROMPT, MAX_TOKENS);
                stepUntil(
                        engine,
                        () -> status(engine, "b").orElse(null) == RequestStatus.WAITING_FOR_REMOTE_KV,
                        "b waits for its load");
                stepUntil(engine, () -> faults.stalled.get() == workers, "every rank's load copy stalled");
                // Long past the step the load was due in: still waiting, blocks held, the engine not blocked.
                for (int i = 0; i < 4; i++) {
                    assertTrue(engine.hasWork());
                    engine.step();
                    assertEquals(Optional.of(RequestStatus.WAITING_FOR_REMOTE_KV), status(engine, "b"), "step " + i);
                    assertTrue(engine.scheduler().view().heldForReceiving().contains("b"), "load no longer awaited");
                    assertTrue(
                            engine.scheduler().view().kvCacheManager().owns("b"),
                            "blocks of a loading request not held");
                }
                assertTrue(connector.count("loadStalled", "b") > 0, "the connector never saw the load stalled");
                assertEquals(0, connector.count("reportStep.receiving", "b"), "reported received while stalled");
            } finally {
                // Also when an assertion failed: closing the engine waits for the copy streams.
                faults.release.countDown();
            }
            drain(engine);
            assertArrayEquals(
                    engine.metrics().outputs().get("seed"),
                    engine.metrics().outputs().get("b"));
            assertEquals(1, engine.scheduler().stats().connectorAsyncLoads());
            assertEquals(0, engine.scheduler().stats().loadFailures());
            assertEquals(workers, connector.count("reportStep.receiving", "b"), "one report per rank");
            assertClean(engine, connector, List.of("seed", "b"), true);
        }
    }
}
