package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.ThrowSpec;
import io.kvconnect.core.sched.ConnectorErrorPolicy;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every request and every held block reaches an end in bounded time whatever a connector does: a
 * load or a send it never finishes, a worker hook that throws once on one rank and so loses that
 * rank's orders, pending work that never ends. The engine gives up after the connector timeout,
 * under the connector error policy, and reports what it gave up.
 */
class ConnectorWatchdogTest {
    private static final int[] PROMPT = prompt(61, 22);
    private static final Duration TIMEOUT = Duration.ofMillis(300);
    /** Idle steps pause 0.2 ms, so the timeout is reached well within this many steps. */
    private static final int STEP_BOUND = 200_000;

    private static EngineSetup setup(
            int workers, boolean async, LoadFailurePolicy policy, ConnectorErrorPolicy errors) {
        EngineSetup s = ConnectorTestSupport.setup(64, workers, async, policy);
        return s.withConfig(c ->
                c.scheduler(s.config().scheduler().withConnectorErrors(errors).withConnectorTimeout(TIMEOUT)));
    }

    @ParameterizedTest(name = "asyncScheduling={0}")
    @ValueSource(booleans = {false, true})
    void aWorkerHookThatThrowsOnceOnOneRankNeverHangsTheEngine(boolean async) throws Exception {
        // Rank 1 loses the step that orders the victim's asynchronous load: only rank 0 ever
        // reports it, so without a bound the engine would wait for rank 1 forever.
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(1)
                .throwing(ThrowSpec.workerOnce("bindConnectorMetadata", "victim")
                        .onRank(1)
                        .losingOrders())
                .build());
        try (Engine engine = ConnectorTestSupport.engine(
                setup(2, async, LoadFailurePolicy.FAIL, ConnectorErrorPolicy.FAIL_REQUESTS), connector)) {
            seedStore(engine, "seed", PROMPT, 4);
            engine.addRequest("victim", PROMPT, 4);
            engine.addRequest("bystander", prompt(62, 9), 4);
            long t0 = System.nanoTime();
            drain(engine, STEP_BOUND);

            String reason = engine.metrics().failures().get("victim");
            assertTrue(
                    reason != null && reason.contains("bindConnectorMetadata") && reason.contains("worker 1"),
                    "victim failed with: " + reason);
            assertEquals(null, engine.metrics().failures().get("bystander"));
            assertEquals(1, engine.scheduler().stats().transfersGivenUp(), "the victim's load was given up");
            assertTrue(System.nanoTime() - t0 >= TIMEOUT.toNanos(), "given up only after the timeout");
            assertClean(engine, connector, List.of("seed", "victim", "bystander"), true);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(LoadFailurePolicy.class)
    void aLoadThatIsNeverReportedIsGivenUpUnderTheLoadFailurePolicy(LoadFailurePolicy policy) throws Exception {
        Map<String, int[]> expected = reference(1, false, Map.of("victim", PROMPT), 4);
        // Only rank 0 reports, but the engine waits for both ranks.
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(0).reportingRanks(0).build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(2, false, policy, ConnectorErrorPolicy.FAIL_REQUESTS), connector)) {
            engine.addRequest("seed", PROMPT, 4);
            drain(engine, STEP_BOUND);
            assertTrue(engine.scheduler().resetPrefixCache());
            engine.addRequest("victim", PROMPT, 4);
            drain(engine, STEP_BOUND);

            assertEquals(1, engine.scheduler().stats().transfersGivenUp());
            if (policy == LoadFailurePolicy.FAIL) {
                String reason = engine.metrics().failures().get("victim");
                assertTrue(
                        reason != null && reason.contains("did not finish loading"), "victim failed with: " + reason);
            } else {
                assertArrayEquals(
                        expected.get("victim"), engine.metrics().outputs().get("victim"));
            }
            assertClean(engine, connector, List.of("seed", "victim"), true);
        }
    }

    @ParameterizedTest(name = "asyncScheduling={0}")
    @ValueSource(booleans = {false, true})
    void aDelayedFreeThatIsNeverReportedIsGivenUp(boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().delayFree(0).reportingRanks(0).build());
        try (Engine engine = ConnectorTestSupport.engine(
                setup(2, async, LoadFailurePolicy.FAIL, ConnectorErrorPolicy.FAIL_REQUESTS), connector)) {
            engine.addRequest("sender", PROMPT, 3);
            drain(engine, STEP_BOUND);
            assertEquals(1, engine.scheduler().stats().transfersGivenUp());
            assertClean(engine, connector, List.of("sender"), true);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ConnectorErrorPolicy.class)
    void pendingWorkThatNeverEndsStopsHoldingTheEngineAfterTheTimeout(ConnectorErrorPolicy errors) throws Exception {
        StuckConnector stuck = new StuckConnector();
        EngineSetup base = setup(1, false, LoadFailurePolicy.FAIL, errors);
        try (Engine engine = new Engine(base.withConnector(
                Optional.of(new EngineSetup.ConnectorSides("stuck", stuck, rank -> new IdleWorker()))))) {
            engine.addRequest("only", PROMPT, 3);
            drain(engine, STEP_BOUND);

            assertEquals(1, engine.scheduler().stats().connectorStalls());
            if (errors == ConnectorErrorPolicy.DISABLE) {
                assertTrue(engine.scheduler().stats().connectorDisabled());
            } else {
                assertEquals(1, engine.scheduler().stats().reclaimedConnectorReferences());
            }
            EngineInvariants.checkDrained(engine.scheduler());
            // New work is served, and a connector found stuck does not cost the next idle period a
            // timeout again: the engine stops at once.
            engine.addRequest("next", PROMPT, 3);
            drain(engine, STEP_BOUND);
            assertEquals(null, engine.metrics().failures().get("next"));
            assertEquals(1, engine.scheduler().stats().connectorStalls(), "stalled once, not once per idle period");
        }
    }

    /** Holds one GPU block and claims pending work forever. */
    private static final class StuckConnector implements SchedulerConnector {
        private GPUBlockPoolView pool;
        private boolean touched;

        @Override
        public void bindSchedulerState(SchedulerState state) {
            pool = state.gpuBlockPool();
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            return MatchResult.none();
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
            if (!touched) {
                pool.touch(blocks.get(0));
                touched = true;
            }
        }

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            return ConnectorMetadata.NONE;
        }

        @Override
        public boolean hasPendingWork() {
            return true;
        }
    }

    private static final class IdleWorker implements WorkerConnector {
        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {}

        @Override
        public void startLoadKv() {}

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            return WorkerStepReport.EMPTY;
        }
    }
}
