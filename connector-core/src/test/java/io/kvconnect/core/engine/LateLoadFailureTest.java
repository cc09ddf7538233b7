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

import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.FailMode;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.Scheduler;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A load failure reported after the step that read the failed block. Within the load failure
 * window the engine holds back everything the loader computed from it, so nothing computed from
 * wrong KV reaches the client, the prefix cache or a connector. Later than that it still evicts
 * every block of the request from the failed one on (and of every request sharing one of them)
 * and recomputes or fails them, and counts the report as late.
 */
class LateLoadFailureTest {
    private static final int[] PROMPT = prompt(81, 22);
    private static final int MAX_TOKENS = 6;
    private static final int FAILED_BLOCK = 2;

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (LoadFailurePolicy policy : LoadFailurePolicy.values()) {
            for (boolean async : List.of(false, true)) {
                for (int workers : List.of(1, 2)) {
                    all.add(Arguments.of(policy, async, workers));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} asyncScheduling={1} workers={2}")
    @MethodSource("cases")
    void aReportOneStepLateWithinTheWindowNeverLetsWrongKvOut(LoadFailurePolicy policy, boolean async, int workers)
            throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("victim", PROMPT);
        prompts.put("twin", PROMPT);
        Map<String, int[]> expected = reference(1, false, prompts, MAX_TOKENS);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(LoadMode.SYNC_START)
                .savesConfirmedOnly()
                .failLoads((id, index) -> id.equals("victim") && index == FAILED_BLOCK, FailMode.GARBAGE)
                .errorReportDelay(1)
                .build());
        try (Engine engine = ConnectorTestSupport.engine(setup(64, workers, async, policy), connector)) {
            assertEquals(1, engine.scheduler().config().loadFailureWindow(), "the default window");
            seedStore(engine, "seed", PROMPT, MAX_TOKENS);
            engine.addRequest("victim", PROMPT, MAX_TOKENS);
            engine.step();
            // The twin arrives right after the victim's load: it must not hit what the victim
            // computed from the failed block, neither in the GPU cache nor in the connector.
            engine.addRequest("twin", PROMPT, MAX_TOKENS);
            drain(engine);

            var stats = engine.scheduler().stats();
            assertEquals(0, stats.lateLoadFailureReports(), "the report came within the window");
            assertTrue(stats.heldOutputsDropped() >= 1, "the victim's outputs were held, then dropped");
            assertArrayEquals(expected.get("twin"), engine.metrics().outputs().get("twin"), "twin");
            if (policy == LoadFailurePolicy.RECOMPUTE) {
                assertArrayEquals(
                        expected.get("victim"), engine.metrics().outputs().get("victim"), "victim");
            } else {
                String reason = engine.metrics().failures().get("victim");
                assertTrue(reason != null && reason.contains("KV load failed"), "victim failed with: " + reason);
                assertEquals(0, engine.metrics().outputs().get("victim").length, "the victim emitted no token");
            }
            // No wrong KV was used and the connector stored nothing computed from it (it compares
            // every block computed again for a stored hash with the stored copy).
            assertEquals(0, engine.metrics().mismatches(), "KV read wrong and used");
            assertClean(engine, connector, List.of("seed", "victim", "twin"), true);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(LoadFailurePolicy.class)
    void aReportBeyondTheWindowEvictsEveryBlockFromTheFailedOneOn(LoadFailurePolicy policy) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(LoadMode.SYNC_START)
                .savesConfirmedOnly()
                .failLoads((id, index) -> id.equals("victim") && index == FAILED_BLOCK, FailMode.GARBAGE)
                .errorReportDelay(3)
                .build());
        EngineSetup base = setup(64, 1, false, policy);
        try (Engine engine = ConnectorTestSupport.engine(
                base.withConfig(c -> c.scheduler(base.config().scheduler().withLoadFailureWindow(0))), connector)) {
            Scheduler s = engine.scheduler();
            BlockPool pool = s.view().kvCacheManager().pool();
            seedStore(engine, "seed", PROMPT, MAX_TOKENS);
            engine.addRequest("victim", PROMPT, MAX_TOKENS);
            engine.step();
            // Computed, confirmed and cached, the failed block and those after it included.
            List<Integer> blocks = s.view().requestState("victim").orElseThrow().blocks();
            RequestView victim = s.view().findRequest("victim").orElseThrow();
            int full = PROMPT.length / 4;
            for (int i = 0; i < full; i++) {
                assertEquals(blocks.get(i), pool.lookup(victim.blockHash(i)), "block " + i + " cached");
            }
            // A second request shares them through the prefix cache before the report comes.
            engine.addRequest("sharer", PROMPT, MAX_TOKENS);
            stepUntil(engine, () -> s.stats().loadFailures() > 0, "the late report");

            assertEquals(1, s.stats().lateLoadFailureReports());
            assertEquals(2, s.stats().loadFailures(), "the victim and the request sharing its blocks");
            for (int i = FAILED_BLOCK; i < full; i++) {
                assertTrue(pool.cachedHash(blocks.get(i)).isEmpty(), "block " + i + " still cached");
                assertEquals(-1, pool.lookup(victim.blockHash(i)), "hash of block " + i + " still cached");
            }
            for (int i = 0; i < FAILED_BLOCK; i++) {
                assertEquals(blocks.get(i), pool.lookup(victim.blockHash(i)), "block " + i + " before the failure");
            }
            if (policy == LoadFailurePolicy.FAIL) {
                for (String id : List.of("victim", "sharer")) {
                    String reason = engine.metrics().failures().get(id);
                    assertTrue(reason != null && reason.contains("KV load failed"), id + " failed with: " + reason);
                }
            } else {
                for (String id : List.of("victim", "sharer")) {
                    var state = s.view().requestState(id).orElseThrow();
                    assertTrue(
                            state.confirmed() <= FAILED_BLOCK * 4,
                            id + " computes again from the failed block: " + state);
                }
            }
            drain(engine);
            assertClean(engine, connector, List.of("seed", "victim", "sharer"), false);
        }
    }
}
