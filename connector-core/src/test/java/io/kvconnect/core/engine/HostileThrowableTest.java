package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A throwable from a plugin is plugin code too: one whose own methods throw, or whose causes never
 * end, is contained like any other when a hook throws it or a step report names it, although the
 * engine logs it and puts it into failure reasons after the hook returned.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileThrowableTest {
    /** A throwable that cannot be printed: every method that describes it throws. */
    static final class Unprintable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        @Override
        public String getMessage() {
            throw new IllegalStateException("getMessage");
        }

        @Override
        public String getLocalizedMessage() {
            throw new IllegalStateException("getLocalizedMessage");
        }

        @Override
        public String toString() {
            throw new IllegalStateException("toString");
        }

        @Override
        public StackTraceElement[] getStackTrace() {
            throw new IllegalStateException("getStackTrace");
        }
    }

    /** A throwable whose chain of causes never ends: each call of {@code getCause} makes a new one. */
    static final class EndlessCauses extends RuntimeException {
        private static final long serialVersionUID = 1L;

        EndlessCauses() {
            super("endless");
        }

        @Override
        public synchronized Throwable getCause() {
            return new EndlessCauses();
        }
    }

    static Stream<Arguments> hostile() {
        return Stream.of(
                Arguments.of("unprintable", (Supplier<RuntimeException>) Unprintable::new),
                Arguments.of("endless causes", (Supplier<RuntimeException>) EndlessCauses::new));
    }

    /** Throws {@code what} from {@code getNumNewMatchedTokens} of request "a". */
    private record ThrowingScheduler(Supplier<RuntimeException> what) implements SchedulerConnector {
        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            if (request.requestId().equals("a")) {
                throw what.get();
            }
            return MatchResult.none();
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {}

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            return ConnectorMetadata.NONE;
        }
    }

    /** On rank 1, throws {@code thrown} from {@code startLoadKv} once and names {@code reported} in a report once. */
    private static final class HostileWorker implements WorkerConnector {
        private final boolean hostile;
        private @org.jspecify.annotations.Nullable Supplier<RuntimeException> thrown;
        private @org.jspecify.annotations.Nullable Supplier<RuntimeException> reported;

        HostileWorker(
                int rank,
                @org.jspecify.annotations.Nullable Supplier<RuntimeException> thrown,
                @org.jspecify.annotations.Nullable Supplier<RuntimeException> reported) {
            this.hostile = rank == 1;
            this.thrown = thrown;
            this.reported = reported;
        }

        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {}

        @Override
        public void startLoadKv() {
            Supplier<RuntimeException> t = thrown;
            if (hostile && t != null) {
                thrown = null;
                throw t.get();
            }
        }

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            Supplier<RuntimeException> r = reported;
            if (hostile && r != null) {
                reported = null;
                return WorkerStepReport.builder().failure(r.get()).build();
            }
            return WorkerStepReport.EMPTY;
        }
    }

    private static Engine engine(
            SchedulerConnector scheduler,
            @org.jspecify.annotations.Nullable Supplier<RuntimeException> thrownByWorker,
            @org.jspecify.annotations.Nullable Supplier<RuntimeException> reportedByWorker) {
        EngineSetup base = ConnectorTestSupport.setup(64, 2, false, LoadFailurePolicy.FAIL);
        return new Engine(base.withConfig(c ->
                        c.scheduler(base.config().scheduler().withConnectorErrors(ConnectorErrorPolicy.FAIL_REQUESTS)))
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        "hostile", scheduler, rank -> new HostileWorker(rank, thrownByWorker, reportedByWorker)))));
    }

    private static void runTwoRequests(Engine engine) throws InterruptedException {
        engine.addRequest("a", prompt(1, 14), 3);
        engine.addRequest("b", prompt(2, 9), 3);
        drain(engine);
        EngineInvariants.checkDrained(engine.scheduler());
        assertEquals(2, engine.metrics().outputs().size(), "every request ended");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void aSchedulerHookThrowingItFailsOnlyItsRequest(String name, Supplier<RuntimeException> what) throws Exception {
        try (Engine engine = engine(new ThrowingScheduler(what), null, null)) {
            runTwoRequests(engine);
            String reason = engine.metrics().failures().get("a");
            assertTrue(reason != null && reason.contains("getNumNewMatchedTokens"), "a failed with: " + reason);
            assertTrue(reason.contains(what.get().getClass().getName()), "the reason names the class: " + reason);
            assertNull(engine.metrics().failures().get("b"));
            assertEquals(1, engine.scheduler().stats().hookFailures());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void aWorkerHookThrowingItIsContainedAndCounted(String name, Supplier<RuntimeException> what) throws Exception {
        try (Engine engine = engine(new ThrowingScheduler(RuntimeException::new), what, null)) {
            runTwoRequests(engine);
            assertNull(engine.metrics().failures().get("b"), "b loaded nothing, so the failure is not its");
            assertEquals(2, engine.scheduler().stats().hookFailures(), "a's lookup and the worker hook");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void aStepReportNamingItIsContainedAndCounted(String name, Supplier<RuntimeException> what) throws Exception {
        try (Engine engine = engine(new ThrowingScheduler(RuntimeException::new), null, what)) {
            runTwoRequests(engine);
            assertNull(engine.metrics().failures().get("b"), "b loaded nothing, so the failure is not its");
            assertEquals(2, engine.scheduler().stats().hookFailures(), "a's lookup and the reported failure");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void creatingAWorkerSideThatThrowsItFailsTheStartWithAClearError(String name, Supplier<RuntimeException> what) {
        EngineSetup setup = ConnectorTestSupport.setup(64, 2, false, LoadFailurePolicy.FAIL)
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        "hostile", new ThrowingScheduler(RuntimeException::new), rank -> {
                            throw what.get();
                        })));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new Engine(setup).close());
        assertTrue(e.getMessage().contains("createWorkerConnector"), e.getMessage());
    }
}
