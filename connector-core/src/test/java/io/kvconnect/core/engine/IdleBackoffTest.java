package io.kvconnect.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.kvconnect.core.sched.RequestUpdates;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An engine stepped only for its connector's pending work waits between its idle steps, ever
 * longer up to a cap, and a step with work (or an arriving request) starts the waits over. The
 * waits are recorded, not waited: no timing in these tests.
 */
class IdleBackoffTest {
    private static final long US = 1_000;

    @Test
    void waitsDoubleFromTheFirstUpToTheCapAndStartOverOnReset() {
        List<Long> waits = new ArrayList<>();
        IdleBackoff backoff = new IdleBackoff(waits::add);

        for (int i = 0; i < 7; i++) {
            backoff.idle();
        }
        backoff.reset();
        backoff.idle();
        backoff.idle();
        backoff.requestWaits();
        backoff.idle();

        assertEquals(
                List.of(
                        50 * US, 100 * US, 200 * US, 400 * US, 800 * US, 1000 * US, 1000 * US, // growing, capped
                        50 * US, 100 * US, // after a reset
                        200 * US, // a request waits: fixed
                        50 * US), // and the back-off starts over
                waits);
    }

    /** A connector whose only work is a flag: pending until the test says it is done. */
    private static final class PendingConnector {
        volatile boolean pending = true;

        EngineSetup.ConnectorSides sides() {
            SchedulerConnector scheduler = new InertSchedulerConnector() {
                @Override
                public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
                    return FinishResult.freeNow();
                }

                @Override
                public boolean hasPendingWork() {
                    return pending;
                }
            };
            return new EngineSetup.ConnectorSides("pending", scheduler, rank -> new WorkerConnector() {
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
            });
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void idleStepsBackOffAndAStepWithWorkStartsOver(int workers, boolean async) throws Exception {
        PendingConnector connector = new PendingConnector();
        List<Long> waits = new ArrayList<>();
        EngineSetup setup = ConnectorTestSupport.setup(64, workers, async, LoadFailurePolicy.FAIL)
                .withConnector(Optional.of(connector.sides()));
        try (Engine engine = new Engine(setup, new IdleBackoff(waits::add))) {
            for (int i = 0; i < 6; i++) {
                assertTrue(engine.hasWork(), "pending connector work keeps the engine stepping");
                engine.step();
            }
            assertEquals(List.of(50 * US, 100 * US, 200 * US, 400 * US, 800 * US, 1000 * US), waits);

            // A request: every step until it is done does work or reports it, and none waits.
            waits.clear();
            engine.addRequest("r", ConnectorTestSupport.prompt(7, 9), 3);
            boolean finished = false;
            for (int steps = 0; !finished; steps++) {
                assertTrue(steps < ConnectorTestSupport.MAX_STEPS, "r did not finish");
                RequestUpdates updates = engine.step();
                for (int i = 0; i < updates.size(); i++) {
                    finished |= updates.isFinished(i);
                }
            }
            assertEquals(List.of(), waits, "a step with work or updates never waits");
            assertFalse(engine.scheduler().hasRequests());

            // Idle again: the back-off starts from its first wait.
            engine.step();
            engine.step();
            assertEquals(List.of(50 * US, 100 * US), waits);

            connector.pending = false;
            assertFalse(engine.hasWork(), "done: the engine stops stepping");
        }
    }
}
