package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertSameOutputs;
import static io.kvconnect.core.engine.ConnectorTestSupport.multiTurn;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.model.ModelCost;
import io.kvconnect.core.sched.ConnectorFatalError;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.testkit.doubles.ForwardingWorkerConnector;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A connector that interrupts the engine's worker threads from a thread of its own, at any moment
 * (between hooks, in the engine's waits for copies and for the other ranks, during hooks), does
 * not stop the engine: every request finishes with the output it has without a connector, and
 * closing the engine still ends its worker threads, also one that waits for a rank stuck in a
 * hook.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StrayInterruptTest {
    /** Generous: only a broken shutdown gets near it. */
    private static final Duration THREAD_END = Duration.ofSeconds(30);

    private static final int POOL = 32;

    /** The worker threads the connector has seen, from inside its hooks. */
    private static final class SeenThreads {
        private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
        /** Worker sides shut down. */
        final AtomicInteger shutdowns = new AtomicInteger();

        void add() {
            threads.add(Thread.currentThread());
        }

        List<Thread> all() {
            return List.copyOf(threads);
        }
    }

    /** A worker side that notes its thread in every step hook. */
    private static class Watching extends ForwardingWorkerConnector {
        final SeenThreads seen;

        Watching(WorkerConnector delegate, SeenThreads seen) {
            super(delegate);
            this.seen = seen;
        }

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {
            seen.add();
            delegate().bindConnectorMetadata(metadata);
        }

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            seen.add();
            return delegate().reportStep(finishedRequestIds);
        }

        @Override
        public void shutdown() {
            seen.shutdowns.incrementAndGet();
            delegate().shutdown();
        }
    }

    /** Waits (bounded) until {@code t} is parked or waiting: in a wait of the engine's. */
    private static void awaitWaiting(Thread t) {
        long deadline = System.nanoTime() + THREAD_END.toNanos();
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            if (System.nanoTime() > deadline) {
                return; // interrupting it anyway is as stray, only less precisely aimed
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Interrupts {@code t} and waits (bounded) until its wait has taken the interrupt: only then
     * may the caller let the wait's condition come true, as a wake-up at the same time as the
     * interrupt could end the wait normally and leave the interrupt for later.
     */
    private static void interruptAndAwaitTaken(Thread t) {
        t.interrupt();
        long deadline = System.nanoTime() + THREAD_END.toNanos();
        while (t.isInterrupted() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
    }

    /**
     * Waits (bounded) until {@code t} waits after the last layer's save: in its wait for copies,
     * which the stalled copy keeps going until this returns.
     */
    private static void awaitWaitingPastLastSave(Thread t, AtomicBoolean pastLastSave) {
        long deadline = System.nanoTime() + THREAD_END.toNanos();
        while (!pastLastSave.get()
                || (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING)) {
            if (System.nanoTime() > deadline) {
                return; // interrupting it anyway is as stray, only less precisely aimed
            }
            Thread.onSpinWait();
        }
    }

    /** {@link ConnectorTestSupport#multiTurn}'s outputs without a connector. */
    private static Map<String, int[]> plainOutputs(int workers, boolean async, int conversations, int turns, long seed)
            throws InterruptedException {
        try (Engine plain = new Engine(setup(POOL, workers, async, LoadFailurePolicy.RECOMPUTE))) {
            return multiTurn(plain, conversations, turns, seed);
        }
    }

    private static void assertEnded(List<Thread> threads) throws InterruptedException {
        assertFalse(threads.isEmpty(), "the connector saw no worker thread");
        for (Thread t : threads) {
            assertTrue(t.join(THREAD_END), t.getName() + " still runs after the engine closed");
        }
    }

    /**
     * Rank 0, after its last hook before the all-reduce, starts a thread that interrupts it once
     * it waits there; rank 1 reaches the all-reduce only after that interrupt. A barrier that
     * breaks on an interrupt would fail the step on both ranks.
     */
    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void aRankInterruptedWhileItWaitsInTheAllReduceStillGetsTheSum(boolean async) throws Exception {
        Map<String, int[]> expected = plainOutputs(2, async, 4, 3, 5);
        Semaphore interrupted = new Semaphore(0);
        SeenThreads seen = new SeenThreads();
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).build());
        EngineSetup setup = setup(POOL, 2, async, LoadFailurePolicy.RECOMPUTE)
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        HostCacheTestConnector.NAME,
                        connector.schedulerSide(),
                        rank -> new Watching(connector.workerSide(rank), seen) {
                            @Override
                            public void waitForSave() {
                                delegate().waitForSave();
                                if (rank == 0) {
                                    Thread worker = Thread.currentThread();
                                    Thread.ofPlatform().daemon().start(() -> {
                                        awaitWaiting(worker);
                                        interruptAndAwaitTaken(worker);
                                        interrupted.release();
                                    });
                                } else {
                                    acquire(interrupted);
                                }
                            }
                        })));
        try (Engine engine = new Engine(setup)) {
            Map<String, int[]> actual = multiTurn(engine, 4, 3, 5);

            assertSameOutputs(expected, actual);
            assertEquals(0, engine.scheduler().stats().hookFailures(), "no hook failed");
            assertEquals(Map.of(), engine.metrics().failures(), "no request failed");
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
            EngineInvariants.checkDrained(engine.scheduler());
        }
        assertEnded(seen.all());
    }

    /**
     * A load copy stalls until the thread that stalls it (as a connector's own thread might) has
     * interrupted the worker while the worker gives its copy stream the step's modelled compute
     * time; the worker waits on, the load completes, and the outputs are as without a connector.
     */
    @Test
    void aWorkerInterruptedWhileItWaitsForItsCopiesWaitsOn() throws Exception {
        // Decode steps that model a minute: the worker's wait for its copies ends only when they do.
        EngineSetup base = setup(POOL, 1, false, LoadFailurePolicy.RECOMPUTE)
                .withConfig(c -> c.cost(new ModelCost(25_000, 60, 0, 0)));
        int[] loaded = ConnectorTestSupport.prompt(3, 17);
        int[] other = ConnectorTestSupport.prompt(4, 9);
        Map<String, int[]> expected = ConnectorTestSupport.reference(1, false, Map.of("x", other, "a", loaded), 8);
        AtomicReference<Thread> worker = new AtomicReference<>();
        // Set from the last layer's saveKvLayer to the next hook: the worker's next wait is then the
        // one for its copies (a step without a forward pass has none, and leaves it unset).
        AtomicBoolean pastLastSave = new AtomicBoolean();
        AtomicBoolean armed = new AtomicBoolean();
        AtomicBoolean fired = new AtomicBoolean();
        CopyFaults faults = (direction, blocks) -> {
            Thread w = worker.get();
            if (direction == CopyFaults.Direction.FROM_HOST && w != null && armed.compareAndSet(true, false)) {
                awaitWaitingPastLastSave(w, pastLastSave);
                interruptAndAwaitTaken(w);
                fired.set(true);
            }
        };
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).build());
        EngineSetup setup = base.withCopyFaults(faults)
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        HostCacheTestConnector.NAME,
                        connector.schedulerSide(),
                        rank -> new ForwardingWorkerConnector(connector.workerSide(rank)) {
                            @Override
                            public void startLoadKv() {
                                pastLastSave.set(false);
                                worker.set(Thread.currentThread());
                                delegate().startLoadKv();
                            }

                            @Override
                            public void saveKvLayer(int layer) {
                                delegate().saveKvLayer(layer);
                                pastLastSave.set(layer == TestEngines.TINY.numLayers() - 1);
                            }

                            @Override
                            public void waitForSave() {
                                pastLastSave.set(false);
                                delegate().waitForSave();
                            }
                        })));
        try (Engine engine = new Engine(setup)) {
            ConnectorTestSupport.seedStore(engine, "seed", loaded, 4);
            engine.addRequest("x", other, 8);
            engine.step(); // x's prefill: from now on it decodes, so the load's steps compute
            armed.set(true);
            engine.addRequest("a", loaded, 8);
            ConnectorTestSupport.drain(engine);

            assertTrue(fired.get(), "the load copy never ran");
            assertTrue(engine.scheduler().stats().connectorAsyncLoads() > 0, "no asynchronous load");
            assertEquals(0, engine.scheduler().stats().hookFailures(), "no hook failed");
            assertEquals(Map.of(), engine.metrics().failures(), "no request failed");
            assertArrayEquals(expected.get("a"), engine.metrics().outputs().get("a"));
            assertArrayEquals(expected.get("x"), engine.metrics().outputs().get("x"));
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }

    /** Rank 1's hook waits for rank 0's interrupter; the hook timer's interrupt must not cut it short. */
    private static void acquire(Semaphore s) {
        long deadline = System.nanoTime() + THREAD_END.toNanos();
        while (true) {
            try {
                if (!s.tryAcquire(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                    fail("rank 0 was never interrupted in the all-reduce");
                }
                return;
            } catch (InterruptedException e) {
                // Not this test's interrupt: wait on.
            }
        }
    }

    /** The connector's own thread, interrupting every worker thread it has seen, again and again. */
    private static final class Interrupter {
        private final SeenThreads seen;
        private final Thread thread;
        private volatile boolean stopped;

        Interrupter(SeenThreads seen) {
            this.seen = seen;
            this.thread =
                    Thread.ofPlatform().daemon().name("plugin-interrupter").start(this::run);
        }

        private void run() {
            while (!stopped) {
                for (Thread t : seen.all()) {
                    t.interrupt();
                }
                LockSupport.parkNanos(20_000); // pacing only: any moment is as good as another
            }
        }

        void stop() throws InterruptedException {
            stopped = true;
            thread.join();
        }
    }

    static Stream<Arguments> soakCases() {
        return LongStream.rangeClosed(1, 4).boxed().flatMap(seed -> Stream.of(false, true)
                .map(async -> Arguments.of(seed, async)));
    }

    @ParameterizedTest(name = "seed={0} async={1}")
    @MethodSource("soakCases")
    void aConnectorThatKeepsInterruptingTheWorkersChangesNoOutput(long seed, boolean async) throws Exception {
        Map<String, int[]> expected = plainOutputs(2, async, 6, 4, seed);
        SeenThreads seen = new SeenThreads();
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).delayFree(1).build());
        EngineSetup setup = setup(POOL, 2, async, LoadFailurePolicy.RECOMPUTE)
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        HostCacheTestConnector.NAME,
                        connector.schedulerSide(),
                        rank -> new Watching(connector.workerSide(rank), seen))));
        Interrupter interrupter = new Interrupter(seen);
        try {
            try (Engine engine = new Engine(setup)) {
                Map<String, int[]> actual = multiTurn(engine, 6, 4, seed);

                // A hook the interrupter cuts short fails its copies: those loads are recomputed.
                assertSameOutputs(expected, actual);
                assertEquals(Map.of(), engine.metrics().failures(), "no request failed");
                assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
                EngineInvariants.checkDrained(engine.scheduler());
                assertEquals(0L, engine.executor().modelCounters().trackedRequests(), "requests workers still track");
            }
            // Closed while the interrupter still runs: the engine's own stop is told from its interrupts.
            assertEnded(seen.all());
        } finally {
            interrupter.stop();
        }
    }

    @ParameterizedTest(name = "seed={0} async={1}")
    @MethodSource("soakCases")
    void anEngineThatIgnoresStrayInterruptsRunsOnWhileAConnectorInterruptsItsThread(long seed, boolean async)
            throws Exception {
        Map<String, int[]> expected = plainOutputs(2, async, 6, 4, seed);
        SeenThreads seen = new SeenThreads();
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).delayFree(1).build());
        EngineSetup setup = setup(POOL, 2, async, LoadFailurePolicy.RECOMPUTE)
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        HostCacheTestConnector.NAME,
                        connector.schedulerSide(),
                        rank -> new Watching(connector.workerSide(rank), seen))));
        Interrupter interrupter = null;
        try {
            try (Engine engine = new Engine(setup)) {
                engine.ignoreStrayInterrupts(); // as the product's commands do
                seen.add(); // the engine thread, this test's, is interrupted as well
                interrupter = new Interrupter(seen);
                Map<String, int[]> actual = multiTurn(engine, 6, 4, seed);

                assertSameOutputs(expected, actual);
                assertEquals(Map.of(), engine.metrics().failures(), "no request failed");
                EngineInvariants.checkDrained(engine.scheduler());
            } // closed while the interrupter still runs
        } finally {
            while (interrupter != null) {
                try {
                    interrupter.stop();
                    break;
                } catch (InterruptedException e) {
                    // the interrupter's, which interrupts this thread until it stopped
                }
            }
            Thread.interrupted();
        }
        assertEquals(2, seen.shutdowns.get(), "closing waited for both worker sides' shutdown");
    }

    /**
     * Rank 1 is stuck in a hook that ignores interrupts, so rank 0 waits in the all-reduce when the
     * engine gives up on the step and closes: closing ends rank 0's thread, and rank 1's once its
     * hook returns, though nothing interrupts it then.
     */
    @Test
    void closingEndsAWorkerThatWaitsForAStuckRank() throws Exception {
        CountDownLatch unstick = new CountDownLatch(1);
        Thread[] threads = new Thread[2];
        HostCacheTestConnector connector =
                new HostCacheTestConnector(TestConnectorConfig.builder().build());
        EngineSetup base = setup(POOL, 2, false, LoadFailurePolicy.RECOMPUTE);
        EngineSetup setup = base.withConfig(
                        c -> c.scheduler(base.config().scheduler().withHookTimeout(Duration.ofMillis(100))))
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        HostCacheTestConnector.NAME,
                        connector.schedulerSide(),
                        rank -> new ForwardingWorkerConnector(connector.workerSide(rank)) {
                            @Override
                            public void waitForSave() {
                                threads[rank] = Thread.currentThread();
                                delegate().waitForSave();
                                if (rank == 1) {
                                    awaitIgnoringInterrupts(unstick);
                                }
                            }
                        })));
        Engine engine = new Engine(setup);
        try {
            engine.addRequest("a", ConnectorTestSupport.prompt(1, 10), 3);
            assertThrows(ConnectorFatalError.class, () -> ConnectorTestSupport.drain(engine));
        } finally {
            engine.close();
        }
        assertTrue(threads[0].join(THREAD_END), "rank 0 still waits after the engine closed");
        unstick.countDown();
        assertTrue(threads[1].join(THREAD_END), "rank 1 still runs after its hook returned");
    }

    @Test
    @Timeout(60)
    void aStepTheCallerInterruptedLeavesAnEngineThatRefusesFurtherSteps() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        HostCacheTestConnector connector =
                new HostCacheTestConnector(TestConnectorConfig.builder().build());
        EngineSetup setup = setup(POOL, 1, false, LoadFailurePolicy.RECOMPUTE)
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        HostCacheTestConnector.NAME,
                        connector.schedulerSide(),
                        rank -> new ForwardingWorkerConnector(connector.workerSide(rank)) {
                            @Override
                            public void waitForSave() {
                                delegate().waitForSave();
                                entered.countDown();
                                awaitIgnoringInterrupts(release);
                            }
                        })));
        Engine engine = new Engine(setup);
        try {
            engine.addRequest("a", ConnectorTestSupport.prompt(1, 10), 3);
            Thread caller = Thread.currentThread();
            Thread canceller = Thread.ofPlatform().start(() -> {
                awaitIgnoringInterrupts(entered);
                caller.interrupt(); // the caller cancels while the step waits for its worker
            });
            assertThrows(InterruptedException.class, engine::step);
            canceller.join();
            release.countDown();

            IllegalStateException e = assertThrows(IllegalStateException.class, engine::step);
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
        } finally {
            release.countDown();
            Thread.interrupted();
            engine.close();
        }
    }

    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        while (true) {
            try {
                latch.await();
                return;
            } catch (InterruptedException e) {
                // Stuck on purpose: the hook timer's and the shutdown's interrupts are ignored.
            }
        }
    }
}
