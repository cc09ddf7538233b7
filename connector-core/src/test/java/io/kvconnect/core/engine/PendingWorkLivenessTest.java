package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertSameOutputs;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.RequestUpdate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Liveness through {@code hasPendingWork}: while the connector says it has work in flight, the
 * engine keeps stepping (and so keeps calling the workers' {@code reportStep}) with no request
 * to compute, and stops as soon as the connector is done. A throwing {@code hasPendingWork} is
 * contained: counted as a hook failure, treated as "no pending work", and the engine drains.
 */
class PendingWorkLivenessTest {
    private static final int K = 5;
    /** More {@code hasPendingWork} calls than any test needs: then the connector gives up (a bug). */
    private static final int MAX_CHECKS = 2_000;

    /**
     * A connector with nothing to load or save that lingers: once armed (a request finished, or
     * from the start), {@code hasPendingWork()} is true until every worker side has made {@link #K}
     * {@code reportStep} calls after the one that first showed it a finished request id (from the
     * start: {@code K} calls in all).
     */
    private static final class LingeringConnector {
        final int workers;
        final boolean fromStart;
        final boolean throwing;
        /** Per rank: {@code reportStep} calls since it first saw a finished id; -1 before. */
        final AtomicIntegerArray since;

        final AtomicIntegerArray calls;
        final List<String> problems = Collections.synchronizedList(new ArrayList<>());
        volatile boolean armed;
        int checks;

        LingeringConnector(int workers, boolean fromStart, boolean throwing) {
            this.workers = workers;
            this.fromStart = fromStart;
            this.throwing = throwing;
            this.since = new AtomicIntegerArray(workers);
            this.calls = new AtomicIntegerArray(workers);
            for (int r = 0; r < workers; r++) {
                since.set(r, fromStart ? 0 : -1);
            }
            this.armed = fromStart;
        }

        boolean pending() {
            if (!armed) {
                return false;
            }
            for (int r = 0; r < workers; r++) {
                if (since.get(r) < K) {
                    return true;
                }
            }
            return false;
        }

        EngineSetup.ConnectorSides sides() {
            SchedulerConnector scheduler = new InertSchedulerConnector() {
                @Override
                public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
                    armed = true;
                    return FinishResult.freeNow();
                }

                @Override
                public boolean hasPendingWork() {
                    if (++checks > MAX_CHECKS) {
                        problems.add("hasPendingWork asked " + checks + " times; giving up");
                        return false;
                    }
                    if (throwing) {
                        throw new IllegalStateException("injected failure in hasPendingWork");
                    }
                    return pending();
                }
            };
            return new EngineSetup.ConnectorSides("lingering", scheduler, rank -> new WorkerConnector() {
                @Override
                public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

                @Override
                public void bindConnectorMetadata(ConnectorMetadata metadata) {}

                @Override
                public void startLoadKv() {}

                @Override
                public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
                    calls.incrementAndGet(rank);
                    if (since.get(rank) >= 0) {
                        since.incrementAndGet(rank);
                    } else if (!finishedRequestIds.isEmpty()) {
                        since.set(rank, 0);
                    }
                    return WorkerStepReport.EMPTY;
                }
            });
        }
    }

    private static Engine engine(int workers, boolean async, LingeringConnector connector) {
        return new Engine(ConnectorTestSupport.setup(64, workers, async, LoadFailurePolicy.FAIL)
                .withConnector(Optional.of(connector.sides())));
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void idleEngineKeepsSteppingUntilTheConnectorIsDone(int workers, boolean async) throws Exception {
        int[] p = prompt(401, 13);
        Map<String, int[]> expected = reference(1, false, Map.of("r", p), 4);
        LingeringConnector connector = new LingeringConnector(workers, false, false);
        try (Engine engine = engine(workers, async, connector)) {
            engine.addRequest("r", p, 4);
            boolean finished = false;
            int idleSteps = 0;
            int steps = 0;
            while (engine.hasWork()) {
                if (++steps > ConnectorTestSupport.MAX_STEPS) {
                    fail("engine did not drain: " + ConnectorTestSupport.state(engine));
                }
                if (finished && !engine.scheduler().hasRequests()) {
                    idleSteps++;
                    assertTrue(
                            connector.pending()
                                    || !engine.scheduler()
                                            .view()
                                            .knownRequests()
                                            .isEmpty(),
                            "stepping although neither a request nor the connector needs it");
                }
                for (RequestUpdate u : engine.step()) {
                    finished |= u instanceof RequestUpdate.Finished;
                }
            }
            assertTrue(finished, "r never finished");
            assertFalse(connector.pending(), "the engine stopped while the connector had pending work");
            for (int r = 0; r < workers; r++) {
                assertEquals(K, connector.since.get(r), "reportStep calls of rank " + r + " after the finished id");
            }
            assertTrue(idleSteps >= K, "idle steps after the finish: " + idleSteps);
            assertSameOutputs(expected, engine.metrics().outputs());
            assertEquals(0, engine.scheduler().stats().hookFailures());
            assertEquals(List.of(), connector.problems);
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void engineWithoutRequestsDrainsExactlyTheConnectorsPendingSteps(int workers, boolean async) throws Exception {
        LingeringConnector connector = new LingeringConnector(workers, true, false);
        try (Engine engine = engine(workers, async, connector)) {
            assertTrue(engine.hasWork(), "pending connector work must keep a fresh engine stepping");
            assertFalse(engine.scheduler().hasRequests());
            // Bounded: the connector answers false after MAX_CHECKS questions (and records a problem).
            List<RequestUpdate> updates = engine.drain();
            assertEquals(List.of(), updates);
            assertEquals(List.of(), connector.problems);
            assertFalse(engine.hasWork());
            assertEquals(K, engine.metrics().steps(), "steps");
            for (int r = 0; r < workers; r++) {
                assertEquals(K, connector.calls.get(r), "reportStep calls of rank " + r);
            }
            assertEquals(0, engine.scheduler().stats().hookFailures());
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void throwingHasPendingWorkIsContainedAndTheEngineDrains(int workers, boolean async) throws Exception {
        int[] p = prompt(402, 11);
        Map<String, int[]> expected = reference(1, false, Map.of("r", p), 5);
        LingeringConnector connector = new LingeringConnector(workers, true, true);
        try (Engine engine = engine(workers, async, connector)) {
            // Asked with nothing else to do: the failure counts, and means "no pending work".
            assertFalse(engine.hasWork(), "a throwing hasPendingWork must count as no pending work");
            assertEquals(1, engine.scheduler().stats().hookFailures());
            engine.addRequest("r", p, 5);
            ConnectorTestSupport.drain(engine);
            long failures = engine.scheduler().stats().hookFailures();
            assertTrue(failures >= 2, "hook failures: " + failures);
            assertFalse(engine.hasWork());
            assertEquals(failures + 1, engine.scheduler().stats().hookFailures(), "each question fails once");
            assertArrayEquals(expected.get("r"), engine.metrics().outputs().get("r"));
            assertEquals(Map.of(), engine.metrics().failures(), "a failed hasPendingWork concerns no request");
            assertEquals(List.of(), connector.problems);
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
        }
    }
}
