package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static io.kvconnect.core.engine.ConnectorTestSupport.stepUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
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
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * (f) Failed loads: under policy FAIL the request finishes with an error naming the failed block;
 * under RECOMPUTE it computes the lost KV again and its output equals the output without a
 * connector. Both for a block only one request loads and for a failed block two requests share,
 * for synchronous and asynchronous loads, whether the block is left stale or filled with garbage.
 */
class LoadFailureTest {
    private static final int[] PROMPT = prompt(71, 22);
    private static final int[] BYSTANDER = prompt(72, 13);
    private static final int MAX_TOKENS = 6;

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (LoadMode mode : List.of(LoadMode.SYNC_START, LoadMode.SYNC_LAYER, LoadMode.ASYNC)) {
            for (FailMode fail : List.of(FailMode.SKIP_COPY, FailMode.GARBAGE)) {
                for (boolean async : List.of(false, true)) {
                    for (int failedBlock : List.of(0, 2)) {
                        all.add(Arguments.of(mode, fail, async, mode == LoadMode.SYNC_LAYER ? 2 : 1, failedBlock));
                    }
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1} asyncScheduling={2} workers={3} failedBlock={4}")
    @MethodSource("cases")
    void failPolicyFailsTheRequestNamingTheBlock(
            LoadMode mode, FailMode fail, boolean async, int workers, int failedBlock) throws Exception {
        run(mode, fail, async, workers, LoadFailurePolicy.FAIL, Set.of("victim"), failedBlock);
    }

    @ParameterizedTest(name = "{0} {1} asyncScheduling={2} workers={3} failedBlock={4}")
    @MethodSource("cases")
    void recomputePolicyRecomputesToTheSameOutput(
            LoadMode mode, FailMode fail, boolean async, int workers, int failedBlock) throws Exception {
        run(mode, fail, async, workers, LoadFailurePolicy.RECOMPUTE, Set.of("victim"), failedBlock);
    }

    @ParameterizedTest(name = "{0} {1} asyncScheduling={2} workers={3} failedBlock={4}")
    @MethodSource("cases")
    void failedBlockLoadedByTwoRequestsFailsBothUnderFail(
            LoadMode mode, FailMode fail, boolean async, int workers, int failedBlock) throws Exception {
        run(mode, fail, async, workers, LoadFailurePolicy.FAIL, Set.of("victim", "twin"), failedBlock);
    }

    @ParameterizedTest(name = "{0} {1} asyncScheduling={2} workers={3} failedBlock={4}")
    @MethodSource("cases")
    void failedBlockLoadedByTwoRequestsRecomputesBothUnderRecompute(
            LoadMode mode, FailMode fail, boolean async, int workers, int failedBlock) throws Exception {
        run(mode, fail, async, workers, LoadFailurePolicy.RECOMPUTE, Set.of("victim", "twin"), failedBlock);
    }

    /**
     * The seed stores {@link #PROMPT}; then the victims load it (block {@code failedBlock} of each
     * fails; 0 leaves nothing loaded) next to a bystander that loads nothing.
     */
    private static void run(
            LoadMode mode,
            FailMode fail,
            boolean async,
            int workers,
            LoadFailurePolicy policy,
            Set<String> victims,
            int failedBlock)
            throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("seed", PROMPT);
        prompts.put("bystander", BYSTANDER);
        Map<String, int[]> expected = reference(1, false, prompts, MAX_TOKENS);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(mode)
                .failLoads((id, index) -> victims.contains(id) && index == failedBlock, fail)
                .build());
        try (Engine engine = ConnectorTestSupport.engine(setup(64, workers, async, policy), connector)) {
            seedStore(engine, "seed", PROMPT, MAX_TOKENS);
            for (String v : victims) {
                engine.addRequest(v, PROMPT, MAX_TOKENS);
            }
            engine.addRequest("bystander", BYSTANDER, MAX_TOKENS);
            drain(engine);
            assertArrayEquals(
                    expected.get("bystander"), engine.metrics().outputs().get("bystander"));
            assertEquals(victims.size(), engine.scheduler().stats().loadFailures(), "requests hit by failed loads");
            for (String v : victims) {
                List<Call> failed = connector.calls("loadFails", v);
                assertEquals(workers, failed.size(), "failed loads of " + v);
                long block = failed.getFirst().value();
                if (policy == LoadFailurePolicy.FAIL) {
                    String reason = engine.metrics().failures().get(v);
                    assertTrue(reason != null && reason.contains("block " + block), v + " failed with: " + reason);
                } else {
                    assertArrayEquals(
                            expected.get("seed"), engine.metrics().outputs().get(v), v);
                }
            }
            if (policy == LoadFailurePolicy.FAIL) {
                assertEquals(
                        (long) victims.size(),
                        engine.metrics().finishedByStatus().get(RequestStatus.FINISHED_ERROR));
            } else {
                assertEquals(victims.size(), engine.scheduler().stats().requestsRecomputed());
                assertEquals(0, engine.scheduler().stats().requestsFailed());
            }
            // A synchronous load fails in the step that reads it: that step's wrong reads are
            // counted apart, because the engine discards its output. An asynchronous load is
            // reported before anything reads it.
            List<String> ids = new ArrayList<>(victims);
            ids.add("seed");
            ids.add("bystander");
            assertClean(engine, connector, ids, true);
            assertEquals(
                    mode != LoadMode.ASYNC,
                    engine.metrics().discardedWrongReads() > 0,
                    "wrong reads in discarded steps: " + engine.metrics().discardedWrongReads());
        }
    }

    @ParameterizedTest(name = "asyncScheduling={0}")
    @ValueSource(booleans = {false, true})
    void lateReportedBlockSharedThroughThePrefixCacheFailsEveryOwner(boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(LoadMode.SYNC_START)
                .failLoads((id, index) -> id.equals("a") && index == 1, FailMode.GARBAGE)
                .errorReportDelay(5)
                .build());
        try (Engine engine = ConnectorTestSupport.engine(setup(64, 1, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", PROMPT, MAX_TOKENS);
            engine.addRequest("a", PROMPT, 12);
            stepUntil(
                    engine,
                    () -> engine.scheduler()
                                    .view()
                                    .findRequest("a")
                                    .orElseThrow()
                                    .numTokens()
                            > PROMPT.length,
                    "a has a token");
            // a's blocks are in the prefix cache now; b shares them, the failed one included.
            engine.addRequest("b", PROMPT, 12);
            drain(engine);
            long block = connector.calls("loadFails", "a").getFirst().value();
            assertTrue(connector.calls("getNumNewMatchedTokens", "b").getFirst().value() > 4, "b hit a's blocks");
            for (String id : List.of("a", "b")) {
                String reason = engine.metrics().failures().get(id);
                assertTrue(reason != null && reason.contains("block " + block), id + " failed with: " + reason);
            }
            // The garbage was read before it was reported: mismatches are expected here.
            assertTrue(engine.metrics().mismatches() > 0, "verification missed garbage KV");
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(1, connector.count("requestFinished", "a"));
            assertEquals(1, connector.count("requestFinished", "b"));
        }
    }

    @ParameterizedTest(name = "asyncScheduling={0}")
    @ValueSource(booleans = {false, true})
    void unreportedGarbageIsCaughtByVerification(boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(LoadMode.SYNC_START)
                .failLoads((id, index) -> id.equals("a") && index == 1, FailMode.SILENT_GARBAGE)
                .build());
        try (Engine engine = ConnectorTestSupport.engine(setup(64, 1, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", PROMPT, MAX_TOKENS);
            engine.addRequest("a", PROMPT, MAX_TOKENS);
            drain(engine);
            assertTrue(engine.metrics().mismatches() > 0, "a silently corrupt load went unnoticed");
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }

    /**
     * Under asynchronous scheduling a step's failed-load report arrives after the next step was
     * scheduled. Here the loader is aborted in between and its failed block is handed to a new
     * request: the report must not be blamed on the block's new owner.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(LoadFailurePolicy.class)
    void failedBlockReusedBeforeItsReportIsNotBlamedOnTheNewOwner(LoadFailurePolicy policy) throws Exception {
        int[] stored = prompt(73, 13);
        int[] big = prompt(74, 40);
        Map<String, int[]> expected = reference(1, false, Map.of("big", big), 2);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(LoadMode.SYNC_START)
                .failLoads((id, index) -> id.equals("loader") && index == 2, FailMode.SKIP_COPY)
                .build());
        try (Engine engine = ConnectorTestSupport.engine(setup(12, 1, true, policy), connector)) {
            seedStore(engine, "seed", stored, 1);
            engine.addRequest("loader", stored, 4);
            engine.step();
            assertEquals(1, connector.calls("updateStateAfterAlloc", "loader").size(), "loader admitted");
            // The load is in flight; its blocks go back to the pool and the next step hands them out.
            engine.abort("loader");
            engine.addRequest("big", big, 2);
            drain(engine);
            assertEquals(null, engine.metrics().failures().get("big"));
            assertArrayEquals(expected.get("big"), engine.metrics().outputs().get("big"));
            assertEquals(0, engine.scheduler().stats().loadFailures(), "a request was blamed for the loader's block");
            // The loader's own step read its failed block (a synchronous load), and was discarded.
            assertClean(engine, connector, List.of("seed", "loader", "big"), true);
        }
    }
}
