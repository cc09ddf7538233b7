package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.sched.ConnectorErrorPolicy;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
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
 * What a hook returns is plugin code and data too, and the engine touches it after the hook
 * returned: a list of events whose elements cannot be read, or stats and worker metadata whose own
 * {@code equals} and {@code hashCode} throw, are contained like a throwing hook, never a crash of
 * the step that applies them.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileReturnValuesTest {
    /** A list that claims three events and throws when one is read. */
    private static final class UnreadableList extends AbstractList<KvEvent> {
        @Override
        public KvEvent get(int index) {
            throw new IllegalStateException("event " + index + " cannot be read");
        }

        @Override
        public int size() {
            return 3;
        }
    }

    static Stream<Arguments> hostileEvents() {
        return Stream.of(
                Arguments.of("elements that throw", (Supplier<List<KvEvent>>) UnreadableList::new),
                Arguments.of("a null element", (Supplier<List<KvEvent>>) () -> Arrays.asList((KvEvent) null)));
    }

    /** Stats and metadata that fail whatever the engine asks of them, besides being carried. */
    private static final class Untouchable implements ConnectorStats, WorkerMetadata {
        @Override
        public ConnectorStats aggregate(ConnectorStats other) {
            throw new IllegalStateException("aggregate");
        }

        @Override
        public WorkerMetadata aggregate(WorkerMetadata other) {
            throw new IllegalStateException("aggregate");
        }

        @Override
        public boolean isEmpty() {
            throw new IllegalStateException("isEmpty");
        }

        @Override
        public Map<String, Number> summary() {
            throw new IllegalStateException("summary");
        }

        @Override
        public boolean equals(Object o) {
            throw new IllegalStateException("equals");
        }

        @Override
        public int hashCode() {
            throw new IllegalStateException("hashCode");
        }

        @Override
        public String toString() {
            throw new IllegalStateException("toString");
        }
    }

    /** Returns {@code events} from {@code takeEvents}; otherwise does nothing. */
    private record EventsScheduler(Supplier<List<KvEvent>> events) implements InertSchedulerConnector {
        @Override
        public List<KvEvent> takeEvents() {
            return events.get();
        }
    }

    /** Reports {@code report} every step on every rank. */
    private record ReportingWorker(WorkerStepReport report) implements WorkerConnector {
        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {}

        @Override
        public void startLoadKv() {}

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            return report;
        }
    }

    private static Engine engine(int workers, SchedulerConnector scheduler, WorkerStepReport report) {
        EngineSetup base = ConnectorTestSupport.setup(64, workers, false, LoadFailurePolicy.FAIL);
        return new Engine(base.withConfig(c ->
                        c.scheduler(base.config().scheduler().withConnectorErrors(ConnectorErrorPolicy.FAIL_REQUESTS)))
                .withConnector(Optional.of(
                        new EngineSetup.ConnectorSides("hostile", scheduler, rank -> new ReportingWorker(report)))));
    }

    private static void runTwoRequests(Engine engine) throws InterruptedException {
        engine.addRequest("a", prompt(1, 14), 3);
        engine.addRequest("b", prompt(2, 9), 3);
        drain(engine);
        EngineInvariants.checkDrained(engine.scheduler());
        assertEquals(2, engine.metrics().outputs().size(), "every request ended");
        assertEquals(Map.of(), engine.metrics().failures(), "no request depended on the events");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileEvents")
    void eventsThatCannotBeTakenCountAsAFailedTakeEvents(String name, Supplier<List<KvEvent>> events) throws Exception {
        try (Engine engine = engine(1, new EventsScheduler(events), WorkerStepReport.EMPTY)) {
            runTwoRequests(engine);
            long steps = engine.scheduler().view().step();
            assertEquals(steps, engine.scheduler().stats().hookFailures(), "one failed takeEvents per step");
        }
    }

    @ParameterizedTest(name = "{0} workers")
    @MethodSource("workerCounts")
    void statsAndMetadataWhoseOwnMethodsThrowAreCarriedWithoutBeingAsked(int workers) throws Exception {
        Untouchable u = new Untouchable();
        WorkerStepReport report = WorkerStepReport.builder()
                .stats(Optional.of(u))
                .workerMetadata(Optional.of(u))
                .build();
        try (Engine engine = engine(workers, new EventsScheduler(List::of), report)) {
            runTwoRequests(engine);
            assertEquals(0, engine.scheduler().stats().hookFailures(), "nothing failed in a hook");
        }
    }

    static Stream<Arguments> workerCounts() {
        return Stream.of(Arguments.of(1), Arguments.of(2));
    }
}
