package io.kvconnect.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.engine.testconnector.Call;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.sched.ConnectorErrorPolicy;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.RequestUpdate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** With connector_errors = disable, the first throwing hook detaches the connector and the engine serves on. */
class ConnectorDisableTest {
    private static EngineSetup disabling(int gpuBlocks, int workers, boolean async) {
        EngineSetup s = ConnectorTestSupport.setup(gpuBlocks, workers, async, LoadFailurePolicy.FAIL);
        return s.withConfig(c -> c.scheduler(s.config().scheduler().withConnectorErrors(ConnectorErrorPolicy.DISABLE)));
    }

    @ParameterizedTest
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void aThrowingHookDisablesTheConnectorAndNoHookIsCalledAfterItsShutdown(int workers, boolean async)
            throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(1)
                .throwing(TestConnectorConfig.ThrowSpec.schedulerOnce("updateConnectorOutput", null))
                .build());
        Map<String, int[]> outputs;
        try (Engine engine = ConnectorTestSupport.engine(disabling(24, workers, async), connector)) {
            outputs = ConnectorTestSupport.multiTurn(engine, 3, 3, 5);

            assertTrue(engine.scheduler().stats().connectorDisabled());
            assertEquals(1, engine.scheduler().stats().hookFailures());
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches());
        }
        List<Call> calls = connector.calls();
        long shutdowns = calls.stream().filter(c -> c.hook().equals("shutdown")).count();
        assertEquals(1 + workers, shutdowns, "scheduler side and every worker side shut down once: " + calls);
        // Worker sides shut down before the scheduler side, and nothing is called after the first shutdown.
        long firstShutdown = calls.stream()
                .filter(c -> c.hook().equals("shutdown"))
                .mapToLong(Call::seq)
                .min()
                .orElseThrow();
        long schedulerShutdown = calls.stream()
                .filter(c -> c.hook().equals("shutdown") && c.side().equals("S"))
                .mapToLong(Call::seq)
                .findFirst()
                .orElseThrow();
        assertEquals(calls.getLast().seq(), schedulerShutdown, "the scheduler side is shut down last: " + calls);
        assertFalse(
                calls.stream()
                        .anyMatch(c -> c.seq() > firstShutdown && !c.hook().equals("shutdown")),
                "no hook after the shutdown: "
                        + calls.subList(calls.size() - Math.min(10, calls.size()), calls.size()));
        // No request was about the failed hook, so every output equals a run that never had a connector.
        try (Engine plain = new Engine(ConnectorTestSupport.setup(24, workers, async, LoadFailurePolicy.FAIL))) {
            ConnectorTestSupport.assertSameOutputs(ConnectorTestSupport.multiTurn(plain, 3, 3, 5), outputs);
        }
    }

    @ParameterizedTest
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void aThrowingHasPendingWorkStillLetsTheEngineStepToDetachTheConnector(int workers, boolean async)
            throws Exception {
        // hasPendingWork is asked only once nothing else keeps the engine busy; when it throws,
        // the engine must not stop with the disable pending (found by the soak: references held).
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(1)
                .throwing(TestConnectorConfig.ThrowSpec.schedulerOnce("hasPendingWork", null))
                .build());
        try (Engine engine = ConnectorTestSupport.engine(disabling(24, workers, async), connector)) {
            // One request: the engine first asks hasPendingWork once it is done, and that call throws.
            engine.addRequest("only", ConnectorTestSupport.prompt(5, 20), 3);
            engine.drain();

            assertEquals(1, engine.scheduler().stats().hookFailures());
            assertTrue(engine.scheduler().stats().connectorDisabled(), "the disable ran before the engine stopped");
            assertFalse(engine.hasWork());
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }

    @ParameterizedTest
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void aThrowingWorkerHookThatConcernsNoLoadIsCountedAndDisablesTheConnector(int workers, boolean async)
            throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(1)
                .throwing(TestConnectorConfig.ThrowSpec.workerOnce("reportStep", null))
                .build());
        Map<String, int[]> outputs;
        try (Engine engine = ConnectorTestSupport.engine(disabling(24, workers, async), connector)) {
            outputs = ConnectorTestSupport.multiTurn(engine, 3, 3, 5);

            assertTrue(engine.scheduler().stats().connectorDisabled(), "a worker-side failure counts too");
            assertTrue(engine.scheduler().stats().hookFailures() >= 1);
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches());
        }
        try (Engine plain = new Engine(ConnectorTestSupport.setup(24, workers, async, LoadFailurePolicy.FAIL))) {
            ConnectorTestSupport.assertSameOutputs(ConnectorTestSupport.multiTurn(plain, 3, 3, 5), outputs);
        }
    }

    @ParameterizedTest
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void aLoadInFlightWhenTheConnectorIsDisabledIsRecomputedLocally(int workers, boolean async) throws Exception {
        int[] prompt = ConnectorTestSupport.prompt(41, 18);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(3)
                .throwing(TestConnectorConfig.ThrowSpec.schedulerOnce("getNumNewMatchedTokens", "b"))
                .build());
        try (Engine engine = ConnectorTestSupport.engine(disabling(64, workers, async), connector)) {
            ConnectorTestSupport.seedStore(engine, "seed", prompt, 4);
            engine.addRequest("a", prompt, 6);
            engine.addRequest("b", ConnectorTestSupport.prompt(42, 9), 6);
            List<RequestUpdate> updates = ConnectorTestSupport.drain(engine);

            RequestUpdate.Finished b = updates.stream()
                    .filter(u -> u instanceof RequestUpdate.Finished f
                            && f.requestId().equals("b"))
                    .map(RequestUpdate.Finished.class::cast)
                    .findFirst()
                    .orElseThrow();
            assertEquals(RequestStatus.FINISHED_ERROR, b.status());
            assertTrue(b.reason().contains("getNumNewMatchedTokens"), b.reason());
            assertTrue(engine.scheduler().stats().connectorDisabled());
            Map<String, int[]> reference = ConnectorTestSupport.reference(workers, async, Map.of("a", prompt), 6);
            assertEquals(
                    java.util.Arrays.toString(reference.get("a")),
                    java.util.Arrays.toString(engine.metrics().outputs().get("a")));
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches());
        }
    }
}
