package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.scheduler.ResetResult;
import io.kvconnect.api.worker.WorkerStepReport;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every child is called even when an earlier one throws; the errors come back together, naming the
 * child; results of healthy children are never lost to a sibling's failure.
 */
class ChildFailuresTest {
    /** Worker hooks that return nothing: every child is called, then one exception. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "registerKvCaches",
                "handlePreemptions",
                "bindConnectorMetadata",
                "startLoadKv",
                "waitForLayerLoad",
                "saveKvLayer",
                "waitForSave",
                "clearConnectorMetadata",
                "shutdown"
            })
    void everyWorkerChildIsCalledAndTheFailuresComeBackTogether(String hook) {
        Harness h = new Harness(1, "a", "b", "c");
        h.worker(0, 0).throwIn.add(hook);
        h.worker(0, 2).throwIn.add(hook);
        MultiWorker w = h.workerSides.getFirst();
        Consumer<MultiWorker> call =
                switch (hook) {
                    case "registerKvCaches" -> x -> x.registerKvCaches(null, null);
                    case "handlePreemptions" -> x -> x.handlePreemptions(ConnectorMetadata.NONE);
                    case "bindConnectorMetadata" -> x -> x.bindConnectorMetadata(ConnectorMetadata.NONE);
                    case "startLoadKv" -> MultiWorker::startLoadKv;
                    case "waitForLayerLoad" -> x -> x.waitForLayerLoad(0);
                    case "saveKvLayer" -> x -> x.saveKvLayer(0);
                    case "waitForSave" -> MultiWorker::waitForSave;
                    case "clearConnectorMetadata" -> MultiWorker::clearConnectorMetadata;
                    default -> MultiWorker::shutdown;
                };

        var e = assertThrows(ChildFailedException.class, () -> call.accept(w));

        assertEquals("0:a", e.child());
        assertEquals(hook, e.hook());
        assertEquals(
                List.of("2:c"),
                Arrays.stream(e.getSuppressed())
                        .map(s -> ((ChildFailedException) s).child())
                        .toList());
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of(hook), h.worker(0, i).calls, "child " + i + " was called");
        }
    }

    /** Scheduler hooks that return nothing, or whose answer is lost anyway: every child, then one exception. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "bindSchedulerState",
                "onNewRequest",
                "updateStateAfterAlloc",
                "updateConnectorOutput",
                "resetCache",
                "shutdown"
            })
    void everySchedulerChildIsCalledAndTheFailuresComeBackTogether(String hook) {
        Harness h = new Harness(1, "a", "b", "c");
        h.child(1).throwIn.add(hook);
        h.child(2).throwIn.add(hook);
        h.children.forEach(c -> c.calls.clear());
        Consumer<MultiScheduler> call =
                switch (hook) {
                    case "bindSchedulerState" -> x -> x.bindSchedulerState(h.state);
                    case "onNewRequest" -> x -> x.onNewRequest(Harness.request("r"));
                    case "updateStateAfterAlloc" ->
                        x -> x.updateStateAfterAlloc(Harness.request("r"), BlockIds.of(1), 0, 0);
                    case "updateConnectorOutput" -> x -> x.updateConnectorOutput(ConnectorOutput.EMPTY);
                    case "resetCache" -> MultiScheduler::resetCache;
                    default -> MultiScheduler::shutdown;
                };

        var e = assertThrows(ChildFailedException.class, () -> call.accept(h.scheduler));

        assertEquals("1:b", e.child());
        assertEquals(1, e.getSuppressed().length);
        for (FakeScheduler child : h.children) {
            assertEquals(1, child.calls(hook).size(), child.name + " was called");
        }
    }

    @Test
    void aChildWhoseReportThrowsLosesNothingOfTheOthersAndIsNamedInTheReport() {
        Harness h = new Harness(1, "a", "b", "c");
        h.worker(0, 0).throwIn.add("reportStep");
        h.worker(0, 2).throwIn.add("reportStep");
        h.worker(0, 1).receiving = Set.of("r");
        h.worker(0, 1).loadErrors = Set.of(4);
        h.worker(0, 1).stats = Optional.of(CounterStats.of("n", 1L));
        h.worker(0, 1).metadata = Optional.of(Tags.of("b", "x"));
        MultiWorker w = h.workerSides.getFirst();

        WorkerStepReport report = w.reportStep(Set.of());

        assertEquals(Set.of("r"), report.finishedReceiving());
        assertEquals(Set.of(4), report.invalidBlockIds());
        assertEquals(Optional.of(new MultiStats(Map.of("1:b", CounterStats.of("n", 1L)))), report.stats());
        var md = assertInstanceOf(
                MultiWorkerMetadata.class, report.workerMetadata().orElseThrow());
        assertEquals(Optional.of(Tags.of("b", "x")), md.child(1).metadata());
        var e = assertInstanceOf(ChildFailedException.class, report.failure().orElseThrow());
        assertEquals("0:a", e.child());
        assertEquals("reportStep", e.hook());
        assertEquals(
                List.of("2:c"),
                Arrays.stream(e.getSuppressed())
                        .map(x -> ((ChildFailedException) x).child())
                        .toList(),
                "both failures, one exception");
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of("reportStep"), h.worker(0, i).calls, "child " + i + " was asked");
        }
        w.clearConnectorMetadata(); // nothing deferred: the report named the failures
    }

    @Test
    void aFailureAChildNamesInItsReportIsPassedOnNamingTheChildWithTheChildsParts() {
        Harness h = new Harness(1, "a", "b");
        IllegalStateException contained = new IllegalStateException("a's transport is down");
        h.worker(0, 0).receiving = Set.of("r");
        h.worker(0, 0).reportFailure = contained;
        MultiWorker w = h.workerSides.getFirst();

        WorkerStepReport report = w.reportStep(Set.of());

        assertEquals(Set.of("r"), report.finishedReceiving());
        var e = assertInstanceOf(ChildFailedException.class, report.failure().orElseThrow());
        assertEquals("0:a", e.child());
        assertSame(contained, e.getCause());
    }

    @Test
    void aStepWithNothingReportedReturnsTheEmptyReport() {
        Harness h = new Harness(1, "a", "b");
        assertSame(WorkerStepReport.EMPTY, h.workerSides.getFirst().reportStep(Set.of()));
    }

    @Test
    void schedulerTelemetryFailuresAreDeferredToTheNextOutput() {
        Harness h = new Harness(1, "a", "b");
        h.child(0).throwIn.addAll(Set.of("takeEvents", "takeStats", "hasPendingWork"));
        h.child(1).stats = Optional.of(CounterStats.of("n", 2L));
        h.child(1).pending = true;

        assertEquals(List.of(), h.scheduler.takeEvents());
        assertEquals(Optional.of(new MultiStats(Map.of("1:b", CounterStats.of("n", 2L)))), h.scheduler.takeStats());
        assertTrue(h.scheduler.hasPendingWork(), "b's answer counts");

        var e = assertThrows(
                ChildFailedException.class, () -> h.scheduler.updateConnectorOutput(ConnectorOutput.EMPTY));
        assertEquals(2, e.getSuppressed().length);
        assertTrue(e.getMessage().contains("0:a"), e.getMessage());
    }

    @Test
    void shutdownReachesEveryChildOnceAndReportsDeferredFailures() {
        Harness h = new Harness(1, "a", "b");
        h.child(0).throwIn.add("takeEvents");
        h.scheduler.takeEvents();
        var e = assertThrows(ChildFailedException.class, h.scheduler::shutdown);
        assertEquals("takeEvents", e.hook());
        h.scheduler.shutdown(); // a second call neither throws nor calls the children again
        h.children.forEach(c -> assertEquals(1, c.calls("shutdown").size()));
        MultiWorker w = h.workerSides.getFirst();
        w.shutdown();
        w.shutdown();
        assertEquals(List.of("shutdown"), h.worker(0, 0).calls);
    }

    @Test
    void resetCombinesTheChildrensResults() {
        Harness h = new Harness(1, "a", "b");
        assertEquals(ResetResult.NOT_SUPPORTED, h.scheduler.resetCache());
        h.child(1).reset = ResetResult.RESET;
        assertEquals(ResetResult.RESET, h.scheduler.resetCache());
        h.child(0).reset = ResetResult.FAILED;
        assertEquals(ResetResult.FAILED, h.scheduler.resetCache(), "one child could not: try again");
        assertEquals(3, h.child(1).calls("resetCache").size(), "every child reset every time");
    }

    @Test
    void failuresKeepABoundedNumber() {
        Failures f = new Failures();
        for (int i = 0; i < Failures.MAX_KEPT + 5; i++) {
            f.record("0:a", "hook", new IllegalStateException("n" + i));
        }
        var e = assertThrows(ChildFailedException.class, f::throwIfAny);
        assertEquals(Failures.MAX_KEPT, e.getSuppressed().length, "15 kept failures and a note about 5 more");
        assertTrue(e.getSuppressed()[Failures.MAX_KEPT - 1].getMessage().contains("5 further"));
        f.throwIfAny(); // empty now
    }
}
