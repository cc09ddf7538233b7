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

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.ThrowSpec;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * (g) A connector hook that throws: the requests the hook was about fail with a reason naming the
 * hook, the others finish with their normal outputs, nothing leaks, and the engine serves new
 * requests afterwards (including loads from the same connector). The connector delays every free,
 * so failed requests also go through the delayed-free path.
 */
class HookFailureTest {
    private static final int[] STORED = prompt(81, 21);
    private static final int[] OTHER_1 = prompt(82, 11);
    private static final int[] OTHER_2 = prompt(83, 17);
    private static final int[] FRESH = prompt(84, 9);
    private static final int MAX_TOKENS = 5;

    /**
     * @param name what throws
     * @param spec the injected exception
     * @param mode how the connector loads
     * @param targetFails whether the target request fails (with a reason naming the hook)
     * @param mismatchesAllowed whether reads of KV that was never loaded are expected
     */
    record HookCase(String name, ThrowSpec spec, LoadMode mode, boolean targetFails, boolean mismatchesAllowed) {
        @Override
        public String toString() {
            return name + "/" + mode;
        }
    }

    static Stream<Arguments> cases() {
        List<HookCase> cases = new ArrayList<>();
        for (LoadMode mode : List.of(LoadMode.SYNC_START, LoadMode.ASYNC)) {
            cases.add(
                    new HookCase("onNewRequest", ThrowSpec.schedulerOnce("onNewRequest", "target"), mode, true, false));
            cases.add(new HookCase(
                    "getNumNewMatchedTokens",
                    ThrowSpec.schedulerOnce("getNumNewMatchedTokens", "target"),
                    mode,
                    true,
                    false));
            cases.add(new HookCase(
                    "updateStateAfterAlloc",
                    ThrowSpec.schedulerOnce("updateStateAfterAlloc", "target"),
                    mode,
                    true,
                    false));
            cases.add(new HookCase(
                    "buildConnectorMetadata",
                    ThrowSpec.schedulerOnce("buildConnectorMetadata", "target"),
                    mode,
                    true,
                    false));
            cases.add(new HookCase(
                    "updateConnectorOutput",
                    ThrowSpec.schedulerOnce("updateConnectorOutput", null),
                    mode,
                    false,
                    false));
            cases.add(new HookCase(
                    "requestFinished", ThrowSpec.schedulerOnce("requestFinished", "target"), mode, false, false));
            cases.add(new HookCase(
                    "takeEvents", ThrowSpec.schedulerOnce("takeEvents", null).always(), mode, false, false));
            cases.add(new HookCase(
                    "takeStats", ThrowSpec.schedulerOnce("takeStats", null).always(), mode, false, false));
            cases.add(new HookCase(
                    "hasPendingWork",
                    ThrowSpec.schedulerOnce("hasPendingWork", null).always(),
                    mode,
                    false,
                    false));
            cases.add(new HookCase(
                    "startLoadKv", ThrowSpec.workerOnce("startLoadKv", "target"), mode, true, mode != LoadMode.ASYNC));
            cases.add(new HookCase("waitForSave", ThrowSpec.workerOnce("waitForSave", null), mode, false, false));
            cases.add(new HookCase(
                    "saveKvLayer", ThrowSpec.workerOnce("saveKvLayer", null).always(), mode, false, false));
            // The first report (the seed's step) loads nothing: losing it fails no request.
            cases.add(new HookCase("reportStep", ThrowSpec.workerOnce("reportStep", null), mode, false, false));
        }
        LoadMode sync = LoadMode.SYNC_START;
        cases.add(new HookCase(
                "bindConnectorMetadata", ThrowSpec.workerOnce("bindConnectorMetadata", "target"), sync, true, false));
        cases.add(new HookCase(
                "handlePreemptions", ThrowSpec.workerOnce("handlePreemptions", "target"), sync, true, false));
        // A lost report of a step that loads: its load errors are unknown, so the load fails.
        cases.add(new HookCase("reportStep/load", ThrowSpec.workerOnce("reportStep", "target"), sync, true, false));
        // A report that names a contained failure in the step that loads: the same, the report kept.
        cases.add(new HookCase(
                "reportStepFailure/load", ThrowSpec.workerOnce("reportStepFailure", "target"), sync, true, false));
        cases.add(new HookCase(
                "waitForLayerLoad",
                ThrowSpec.workerOnce("waitForLayerLoad", "target"),
                LoadMode.SYNC_LAYER,
                true,
                false));
        List<Arguments> args = new ArrayList<>();
        for (HookCase c : cases) {
            args.add(Arguments.of(c, 1, false));
            args.add(Arguments.of(c, 2, true));
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} workers={1} async={2}")
    @MethodSource("cases")
    void throwingHookFailsOnlyTheRequestsItWasAbout(HookCase c, int workers, boolean async) throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("seed", STORED);
        prompts.put("other1", OTHER_1);
        prompts.put("target", STORED);
        prompts.put("other2", OTHER_2);
        prompts.put("again", STORED);
        prompts.put("fresh", FRESH);
        Map<String, int[]> expected = reference(1, false, prompts, MAX_TOKENS);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(c.mode())
                .delayFree(1)
                .throwing(c.spec())
                .build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", STORED, MAX_TOKENS);
            engine.addRequest("other1", OTHER_1, MAX_TOKENS);
            engine.step();
            engine.addRequest("target", STORED, MAX_TOKENS);
            engine.addRequest("other2", OTHER_2, MAX_TOKENS);
            drain(engine);
            for (String id : List.of("seed", "other1", "other2")) {
                assertArrayEquals(expected.get(id), engine.metrics().outputs().get(id), id);
            }
            String reason = engine.metrics().failures().get("target");
            if (c.targetFails()) {
                assertTrue(
                        reason != null
                                && (reason.contains(c.spec().hook())
                                        || (c.name().equals("startLoadKv") && reason.contains("KV load failed"))),
                        "target failed with: " + reason);
                assertEquals(1L, engine.metrics().finishedByStatus().get(RequestStatus.FINISHED_ERROR));
            } else {
                assertEquals(null, reason);
                assertArrayEquals(
                        expected.get("target"), engine.metrics().outputs().get("target"));
            }
            assertTrue(
                    connector.calls().stream().anyMatch(call -> call.hook()
                            .equals("throw." + c.spec().hook())),
                    "the hook never threw");
            EngineInvariants.checkDrained(engine.scheduler());

            // The engine goes on serving, loads included.
            engine.addRequest("again", STORED, MAX_TOKENS);
            engine.addRequest("fresh", FRESH, MAX_TOKENS);
            drain(engine);
            assertArrayEquals(expected.get("again"), engine.metrics().outputs().get("again"));
            assertArrayEquals(expected.get("fresh"), engine.metrics().outputs().get("fresh"));
            assertClean(engine, connector, prompts.keySet(), !c.mismatchesAllowed());
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void connectorWhoseMetadataAlwaysFailsStillServesRequestsWithoutExternalKv(int workers, boolean async)
            throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            prompts.put("r" + i, prompt(90 + i, 10 + i));
        }
        Map<String, int[]> expected = reference(1, false, prompts, MAX_TOKENS);
        // No delayed free (and so no saves, which delay the free until saved): its sends would be
        // announced in metadata that never reaches the workers.
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .saves(false)
                .throwing(
                        ThrowSpec.schedulerOnce("buildConnectorMetadata", null).always())
                .build());
        try (Engine engine =
                ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector)) {
            prompts.forEach((id, p) -> engine.addRequest(id, p, MAX_TOKENS));
            drain(engine);
            ConnectorTestSupport.assertSameOutputs(expected, engine.metrics().outputs());
            assertTrue(engine.scheduler().stats().hookFailures() > 0);
            assertClean(engine, connector, prompts.keySet(), true);
        }
    }
}
