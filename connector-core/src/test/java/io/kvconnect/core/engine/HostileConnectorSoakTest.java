package io.kvconnect.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.sched.ConnectorErrorPolicy;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.testkit.doubles.ForwardingSchedulerConnector;
import io.kvconnect.testkit.doubles.ForwardingWorkerConnector;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The test connector with a hostile plugin around it, from a seed: hooks on both sides now and
 * then leave their thread interrupted, throw a throwable that cannot be printed, one whose causes
 * never end, or a {@link StackOverflowError}; the events list holds a null; a step report names a
 * failure that cannot be printed. Every request still ends (with its output or a reason), no
 * output read wrong KV, and nothing leaks.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileConnectorSoakTest {
    static LongStream seeds() {
        return LongStream.rangeClosed(1, 24);
    }

    /** The plugin's misbehaviour, from a seed; shared by every side and thread of one engine. */
    private static final class Chaos {
        private final SplittableRandom random;

        Chaos(long seed) {
            random = new SplittableRandom(seed);
        }

        synchronized boolean oneIn(int n) {
            return random.nextInt(n) == 0;
        }

        /** Now and then, throws something hostile. */
        void maybeThrow() {
            int pick;
            synchronized (this) {
                pick = random.nextInt(60);
            }
            switch (pick) {
                case 0 -> throw new HostileThrowableTest.Unprintable();
                case 1 -> throw new HostileThrowableTest.EndlessCauses();
                case 2 -> throw new StackOverflowError();
                default -> {}
            }
        }

        /** Now and then, leaves the calling thread interrupted. */
        void maybeInterrupt() {
            if (oneIn(15)) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static final class HostileScheduler extends ForwardingSchedulerConnector {
        private final Chaos chaos;

        HostileScheduler(SchedulerConnector delegate, Chaos chaos) {
            super(delegate);
            this.chaos = chaos;
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            chaos.maybeThrow();
            MatchResult m = delegate().getNumNewMatchedTokens(request, localHitTokens);
            chaos.maybeInterrupt();
            return m;
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
            delegate().updateStateAfterAlloc(request, blocks, localHitTokens, externalTokens);
            chaos.maybeInterrupt();
        }

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            chaos.maybeThrow();
            ConnectorMetadata m = delegate().buildConnectorMetadata(output);
            chaos.maybeInterrupt();
            return m;
        }

        @Override
        public void updateConnectorOutput(ConnectorOutput output) {
            delegate().updateConnectorOutput(output);
            chaos.maybeInterrupt();
        }

        @Override
        public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
            FinishResult f = delegate().requestFinished(request, blockIds);
            chaos.maybeInterrupt();
            return f;
        }

        @Override
        public List<KvEvent> takeEvents() {
            List<KvEvent> events = delegate().takeEvents();
            return chaos.oneIn(30) ? Arrays.asList((KvEvent) null) : events;
        }

        @Override
        public boolean hasPendingWork() {
            boolean pending = delegate().hasPendingWork();
            chaos.maybeInterrupt();
            return pending;
        }
    }

    private static final class HostileWorker extends ForwardingWorkerConnector {
        private final Chaos chaos;

        HostileWorker(WorkerConnector delegate, Chaos chaos) {
            super(delegate);
            this.chaos = chaos;
        }

        @Override
        public void startLoadKv() {
            delegate().startLoadKv();
            chaos.maybeInterrupt();
        }

        @Override
        public void waitForLayerLoad(int layer) {
            delegate().waitForLayerLoad(layer);
            chaos.maybeInterrupt();
        }

        @Override
        public void saveKvLayer(int layer) {
            chaos.maybeThrow();
            delegate().saveKvLayer(layer);
            chaos.maybeInterrupt();
        }

        @Override
        public void waitForSave() {
            delegate().waitForSave();
            chaos.maybeInterrupt();
        }

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            WorkerStepReport r = delegate().reportStep(finishedRequestIds);
            chaos.maybeInterrupt();
            if (!chaos.oneIn(30)) {
                return r;
            }
            return new WorkerStepReport(
                    r.finishedSending(),
                    r.finishedReceiving(),
                    r.invalidBlockIds(),
                    r.stats(),
                    r.events(),
                    r.workerMetadata(),
                    Optional.of(new HostileThrowableTest.Unprintable()));
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyRequestEndsAndNothingLeaks(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        int workers = 1 + random.nextInt(2);
        boolean async = random.nextBoolean();
        LoadFailurePolicy loads = random.nextBoolean() ? LoadFailurePolicy.FAIL : LoadFailurePolicy.RECOMPUTE;
        ConnectorErrorPolicy errors = seed % 4 == 0 ? ConnectorErrorPolicy.DISABLE : ConnectorErrorPolicy.FAIL_REQUESTS;
        Chaos chaos = new Chaos(seed * 31);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(random.nextInt(3))
                .delayFree(random.nextInt(3))
                .build());
        EngineSetup base = ConnectorTestSupport.setup(48, workers, async, loads);
        EngineSetup setup = base.withConfig(c -> c.scheduler(base.config()
                        .scheduler()
                        .withConnectorErrors(errors)
                        .withConnectorTimeout(Duration.ofMillis(500))))
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        HostCacheTestConnector.NAME,
                        new HostileScheduler(connector.schedulerSide(), chaos),
                        rank -> new HostileWorker(connector.workerSide(rank), chaos))));
        int requests = 12;
        try (Engine engine = new Engine(setup)) {
            for (int i = 0; i < requests; i++) {
                // Three documents: later requests hit earlier ones in the GPU cache or the store.
                engine.addRequest(
                        "q" + i, ConnectorTestSupport.prompt(i % 3, 8 + random.nextInt(20)), 2 + random.nextInt(5));
                if (random.nextBoolean()) {
                    engine.step();
                }
            }
            ConnectorTestSupport.drain(engine, 200_000);

            EngineInvariants.checkDrained(engine.scheduler());
            for (int i = 0; i < requests; i++) {
                String id = "q" + i;
                assertTrue(
                        engine.metrics().outputs().containsKey(id)
                                || engine.metrics().failures().containsKey(id),
                        id + " ended");
            }
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
        }
    }
}
