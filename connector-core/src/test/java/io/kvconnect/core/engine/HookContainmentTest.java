package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.sched.ConnectorErrorPolicy;
import io.kvconnect.core.sched.ConnectorFatalError;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Nothing a hook throws or does escapes into the engine: any {@link Throwable} (errors, checked
 * exceptions thrown sneakily) on the scheduler thread, on a worker thread and at registration is
 * contained and handled under the connector error policy; a hook that blocks is interrupted at the
 * hook timeout and counts as failed; heap exhaustion stops the engine naming the hook and the
 * connector.
 */
class HookContainmentTest {
    /** What a broken plugin throws. */
    static Stream<Arguments> throwables() {
        return Stream.of(
                Arguments.of("StackOverflowError", (Supplier<Throwable>) StackOverflowError::new),
                Arguments.of("AssertionError", (Supplier<Throwable>) () -> new AssertionError("broken invariant")),
                Arguments.of("another Error", (Supplier<Throwable>) () -> new InternalError("plugin bug")),
                Arguments.of("a checked exception thrown sneakily", (Supplier<Throwable>)
                        () -> new IOException("disk gone")),
                Arguments.of("ExceptionInInitializerError", (Supplier<Throwable>)
                        () -> new ExceptionInInitializerError("static init")));
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> void sneakyThrow(Throwable t) throws E {
        throw (E) t;
    }

    /** A connector throwing {@code what} from one hook, once; otherwise it does nothing. */
    private static final class Throwing implements SchedulerConnector {
        private final String hook;
        private final Supplier<Throwable> what;
        private final long sleepMillis;
        private boolean thrown;

        Throwing(String hook, Supplier<Throwable> what, long sleepMillis) {
            this.hook = hook;
            this.what = what;
            this.sleepMillis = sleepMillis;
        }

        void maybe(String h) {
            if (h.equals(hook) && !thrown) {
                thrown = true;
                if (sleepMillis > 0) {
                    sleep(sleepMillis);
                    return;
                }
                HookContainmentTest.<RuntimeException>sneakyThrow(what.get());
            }
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            maybe("getNumNewMatchedTokens");
            return MatchResult.none();
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {}

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            maybe("buildConnectorMetadata");
            return ConnectorMetadata.NONE;
        }
    }

    /** A worker side throwing {@code what} from one hook on rank 1, once. */
    private static final class ThrowingWorker implements WorkerConnector {
        private final int rank;
        private final String hook;
        private final Supplier<Throwable> what;
        private final long sleepMillis;
        private boolean thrown;

        ThrowingWorker(int rank, String hook, Supplier<Throwable> what, long sleepMillis) {
            this.rank = rank;
            this.hook = hook;
            this.what = what;
            this.sleepMillis = sleepMillis;
        }

        void maybe(String h) {
            if (rank == 1 && h.equals(hook) && !thrown) {
                thrown = true;
                if (sleepMillis > 0) {
                    sleep(sleepMillis);
                    return;
                }
                HookContainmentTest.<RuntimeException>sneakyThrow(what.get());
            }
        }

        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {
            maybe("registerKvCaches");
        }

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {}

        @Override
        public void startLoadKv() {
            maybe("startLoadKv");
        }

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            maybe("reportStep");
            return WorkerStepReport.EMPTY;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            // The engine interrupted the hook at its timeout: return, as a well-behaved hook does.
            Thread.currentThread().interrupt();
        }
    }

    private static Engine engine(
            SchedulerConnector s,
            String workerHook,
            Supplier<Throwable> what,
            long sleepMillis,
            ConnectorErrorPolicy errors,
            Duration hookTimeout) {
        EngineSetup base = ConnectorTestSupport.setup(64, 2, false, LoadFailurePolicy.FAIL);
        EngineSetup setup = base.withConfig(c -> c.scheduler(
                        base.config().scheduler().withConnectorErrors(errors).withHookTimeout(hookTimeout)))
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        "broken", s, rank -> new ThrowingWorker(rank, workerHook, what, sleepMillis))));
        return new Engine(setup);
    }

    private static void runTwoRequests(Engine engine) throws InterruptedException {
        engine.addRequest("a", prompt(1, 14), 3);
        engine.addRequest("b", prompt(2, 9), 3);
        drain(engine);
        EngineInvariants.checkDrained(engine.scheduler());
        assertEquals(2, engine.metrics().outputs().size(), "every request ended");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("throwables")
    void anyThrowableFromASchedulerHookFailsOnlyTheRequestItWasAbout(String name, Supplier<Throwable> what)
            throws Exception {
        try (Engine engine = engine(
                new Throwing("getNumNewMatchedTokens", what, 0),
                "none",
                what,
                0,
                ConnectorErrorPolicy.FAIL_REQUESTS,
                Duration.ofSeconds(30))) {
            runTwoRequests(engine);
            String reason = engine.metrics().failures().get("a");
            assertTrue(reason != null && reason.contains("getNumNewMatchedTokens"), "a failed with: " + reason);
            assertEquals(null, engine.metrics().failures().get("b"));
            assertEquals(1, engine.scheduler().stats().hookFailures());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("throwables")
    void anyThrowableFromAWorkerHookIsContainedAndDisablesTheConnectorUnderDisable(
            String name, Supplier<Throwable> what) throws Exception {
        try (Engine engine = engine(
                new Throwing("none", what, 0),
                "startLoadKv",
                what,
                0,
                ConnectorErrorPolicy.DISABLE,
                Duration.ofSeconds(30))) {
            runTwoRequests(engine);
            assertEquals(1, engine.scheduler().stats().hookFailures());
            assertTrue(engine.scheduler().stats().connectorDisabled(), "disabled under connector_errors disable");
            assertEquals(Set.of(), engine.metrics().failures().keySet(), "no request depended on the connector");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("throwables")
    void anyThrowableFromRegisterKvCachesFailsTheStartWithAClearError(String name, Supplier<Throwable> what) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> engine(
                        new Throwing("none", what, 0),
                        "registerKvCaches",
                        what,
                        0,
                        ConnectorErrorPolicy.FAIL_REQUESTS,
                        Duration.ofSeconds(30))
                .close());
        assertTrue(e.getMessage().contains("registerKvCaches"), e.getMessage());
    }

    @Test
    void aSchedulerHookThatBlocksIsInterruptedAtTheHookTimeoutAndCountsAsFailed() throws Exception {
        try (Engine engine = engine(
                new Throwing("getNumNewMatchedTokens", null, 60_000),
                "none",
                null,
                0,
                ConnectorErrorPolicy.FAIL_REQUESTS,
                Duration.ofMillis(200))) {
            runTwoRequests(engine);
            String reason = engine.metrics().failures().get("a");
            assertTrue(
                    reason != null && reason.contains("did not return from getNumNewMatchedTokens within 200 ms"),
                    "a failed with: " + reason);
            assertEquals(1, engine.scheduler().stats().hookFailures());
        }
    }

    @Test
    void aWorkerHookThatBlocksIsInterruptedAtTheHookTimeoutAndTheConnectorDisabled() throws Exception {
        try (Engine engine = engine(
                new Throwing("none", null, 0),
                "startLoadKv",
                null,
                60_000,
                ConnectorErrorPolicy.DISABLE,
                Duration.ofMillis(200))) {
            runTwoRequests(engine);
            assertEquals(1, engine.scheduler().stats().hookFailures());
            assertTrue(engine.scheduler().stats().connectorDisabled());
        }
    }

    @Test
    void heapExhaustionInAHookStopsTheEngineNamingTheHookAndTheConnector() throws Exception {
        Supplier<Throwable> oom = () -> new OutOfMemoryError("Java heap space");
        try (Engine engine = engine(
                new Throwing("buildConnectorMetadata", oom, 0),
                "none",
                oom,
                0,
                ConnectorErrorPolicy.DISABLE,
                Duration.ofSeconds(30))) {
            engine.addRequest("a", prompt(1, 14), 3);
            ConnectorFatalError e = assertThrows(ConnectorFatalError.class, () -> drain(engine));
            assertEquals("broken", e.connector());
            assertEquals("buildConnectorMetadata", e.hook());
            assertEquals("the scheduler", e.where());
        }
        try (Engine engine = engine(
                new Throwing("none", oom, 0),
                "reportStep",
                oom,
                0,
                ConnectorErrorPolicy.DISABLE,
                Duration.ofSeconds(30))) {
            engine.addRequest("a", prompt(1, 14), 3);
            ConnectorFatalError e = assertThrows(ConnectorFatalError.class, () -> drain(engine));
            assertEquals("reportStep", e.hook());
            assertEquals("worker 1", e.where());
        }
    }
}
