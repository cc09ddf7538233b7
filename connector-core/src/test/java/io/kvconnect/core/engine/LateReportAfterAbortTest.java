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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.SchedulerStats;
import io.kvconnect.core.sched.SchedulerView;
import io.kvconnect.testkit.doubles.ForwardingWorkerConnector;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A load of a request that was aborted is over: when the connector reports its blocks invalid
 * after all, once they were freed and another request computed into them, that request is not
 * blamed. It runs exactly as it would without the report; the blocks are counted as ignored.
 */
class LateReportAfterAbortTest {
    private static final int[] PROMPT = prompt(81, 22);
    private static final int[] OTHER = prompt(82, 34);
    private static final int MAX_TOKENS = 6;
    /** The whole pool is the bystander's by its end, so it gets every block the victim had. */
    private static final int GPU_BLOCKS = 10;

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

    /** Adds {@link #blocks} to the first report after they were set, once; the rest it forwards. */
    private static final class LateInvalid extends ForwardingWorkerConnector {
        private final Set<Integer> blocks;
        private final AtomicInteger reported;
        private boolean done;

        LateInvalid(WorkerConnector delegate, Set<Integer> blocks, AtomicInteger reported) {
            super(delegate);
            this.blocks = blocks;
            this.reported = reported;
        }

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            WorkerStepReport r = delegate().reportStep(finishedRequestIds);
            Set<Integer> late;
            synchronized (blocks) {
                late = Set.copyOf(blocks);
            }
            if (done || late.isEmpty()) {
                return r;
            }
            done = true;
            reported.incrementAndGet();
            Set<Integer> invalid = new HashSet<>(r.invalidBlockIds());
            invalid.addAll(late);
            return new WorkerStepReport(
                    r.finishedSending(),
                    r.finishedReceiving(),
                    invalid,
                    r.stats(),
                    r.events(),
                    r.workerMetadata(),
                    r.failure());
        }
    }

    @ParameterizedTest(name = "{0} asyncScheduling={1} workers={2}")
    @MethodSource("cases")
    void aLateReportOfAnAbortedLoadLeavesTheRequestItsBlocksWentToAlone(
            LoadFailurePolicy policy, boolean async, int workers) throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("bystander", OTHER);
        Map<String, int[]> expected = reference(workers, async, prompts, MAX_TOKENS);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(LoadMode.SYNC_START)
                .savesConfirmedOnly()
                .build());
        Set<Integer> late = new HashSet<>();
        AtomicInteger reported = new AtomicInteger();
        EngineSetup setup = setup(GPU_BLOCKS, workers, async, policy)
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        HostCacheTestConnector.NAME,
                        connector.schedulerSide(),
                        rank -> new LateInvalid(connector.workerSide(rank), late, reported))));
        try (Engine engine = new Engine(setup)) {
            SchedulerView view = engine.scheduler().view();
            seedStore(engine, "seed", PROMPT, MAX_TOKENS);
            engine.addRequest("victim", PROMPT, MAX_TOKENS);
            stepUntil(engine, () -> engine.scheduler().stats().connectorHits() > 0, "the victim's synchronous load");
            List<Integer> victimBlocks =
                    view.requestState("victim").orElseThrow().blocks();
            engine.abort("victim");
            engine.addRequest("bystander", OTHER, MAX_TOKENS);
            // Once the bystander computed into a block the victim loaded, the connector reports
            // the victim's blocks invalid: far too late, for a load the engine no longer has.
            stepUntil(engine, () -> computedIntoOneOf(view, "bystander", victimBlocks), "the bystander's compute");
            synchronized (late) {
                late.addAll(victimBlocks);
            }
            stepUntil(engine, () -> reported.get() == workers, "the late report");
            engine.step();
            EngineInvariants.check(engine.scheduler());
            drain(engine);

            SchedulerStats stats = engine.scheduler().stats();
            assertNull(
                    engine.metrics().failures().get("bystander"),
                    String.valueOf(engine.metrics().failures()));
            assertArrayEquals(
                    expected.get("bystander"), engine.metrics().outputs().get("bystander"));
            assertEquals(0, stats.loadFailures(), "nobody was blamed");
            assertEquals(0, stats.requestsRecomputed());
            // Each rank's report may come in a step of its own under asynchronous scheduling.
            assertTrue(stats.ignoredInvalidBlocks() >= victimBlocks.size(), "the victim's blocks, ignored");
            assertClean(engine, connector, List.of("seed", "victim", "bystander"), true);
        }
    }

    /** Whether {@code id} owns one of {@code blocks} and its KV there is computed and confirmed. */
    private static boolean computedIntoOneOf(SchedulerView view, String id, List<Integer> blocks) {
        Optional<SchedulerView.RequestState> state = view.requestState(id);
        if (state.isEmpty()) {
            return false;
        }
        List<Integer> own = state.get().blocks();
        for (int i = 0; i < own.size(); i++) {
            if (blocks.contains(own.get(i)) && state.get().confirmed() >= (i + 1) * 4) {
                return true;
            }
        }
        return false;
    }
}
