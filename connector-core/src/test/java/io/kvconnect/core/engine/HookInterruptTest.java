package io.kvconnect.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.testkit.doubles.ForwardingSchedulerConnector;
import io.kvconnect.testkit.doubles.ForwardingWorkerConnector;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A hook that returns with its thread's interrupt status set (it interrupted itself, or swallowed
 * an interrupt and restored it) leaves nothing behind: the engine thread still waits for its
 * workers and each worker still reaches the all-reduce and waits for its copies, so the requests
 * run to the same output as without a connector and no hook counts as failed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HookInterruptTest {
    private static void interruptSelf() {
        Thread.currentThread().interrupt();
    }

    /** The test connector's scheduler side, returning from its step hooks interrupted. */
    private static final class InterruptingScheduler extends ForwardingSchedulerConnector {
        InterruptingScheduler(SchedulerConnector delegate) {
            super(delegate);
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            interruptSelf();
            return delegate().getNumNewMatchedTokens(request, localHitTokens);
        }

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            ConnectorMetadata m = delegate().buildConnectorMetadata(output);
            interruptSelf();
            return m;
        }
    }

    /** The test connector's worker side, returning from every step hook interrupted on the last rank. */
    private static final class InterruptingWorker extends ForwardingWorkerConnector {
        private final boolean interrupts;

        InterruptingWorker(WorkerConnector delegate, boolean interrupts) {
            super(delegate);
            this.interrupts = interrupts;
        }

        private void maybeInterrupt() {
            if (interrupts) {
                interruptSelf();
            }
        }

        @Override
        public void startLoadKv() {
            delegate().startLoadKv();
            maybeInterrupt();
        }

        @Override
        public void waitForLayerLoad(int layer) {
            delegate().waitForLayerLoad(layer);
            maybeInterrupt();
        }

        @Override
        public void saveKvLayer(int layer) {
            delegate().saveKvLayer(layer);
            maybeInterrupt();
        }

        @Override
        public void waitForSave() {
            delegate().waitForSave();
            maybeInterrupt();
        }

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            WorkerStepReport r = delegate().reportStep(finishedRequestIds);
            maybeInterrupt();
            return r;
        }
    }

    @ParameterizedTest
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void hooksThatLeaveTheirThreadInterruptedChangeNothing(int workers, boolean async) throws Exception {
        int[] prompt = ConnectorTestSupport.prompt(7, 18);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(2).build());
        EngineSetup setup = ConnectorTestSupport.setup(64, workers, async, LoadFailurePolicy.FAIL)
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        HostCacheTestConnector.NAME,
                        new InterruptingScheduler(connector.schedulerSide()),
                        rank -> new InterruptingWorker(connector.workerSide(rank), rank == workers - 1))));
        try (Engine engine = new Engine(setup)) {
            ConnectorTestSupport.seedStore(engine, "seed", prompt, 4);
            engine.addRequest("a", prompt, 6);
            ConnectorTestSupport.drain(engine);

            assertEquals(0, engine.scheduler().stats().hookFailures(), "no hook counts as failed");
            assertEquals(Map.of(), engine.metrics().failures(), "no request failed");
            assertEquals(
                    Arrays.toString(ConnectorTestSupport.reference(workers, async, Map.of("a", prompt), 6)
                            .get("a")),
                    Arrays.toString(engine.metrics().outputs().get("a")));
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }
}
