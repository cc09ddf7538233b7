package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.testkit.doubles.FakeRequest;
import io.kvconnect.testkit.doubles.FakeSchedulerOutput;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Metadata both ways is kept per child: each child sees only its own scheduler-to-worker metadata
 * and its own slot of the aggregated worker-to-scheduler metadata, also when a child throws.
 */
class PerChildMetadataTest {
    @Test
    void eachWorkerChildIsBoundToItsOwnSlot() {
        Harness h = new Harness(2, "a", "b", "c");
        h.child(0).metadata = new Orders("a");
        h.child(2).metadata = new Orders("c");
        h.step();

        for (int rank = 0; rank < 2; rank++) {
            assertEquals(List.of(new Orders("a")), h.worker(rank, 0).bound);
            assertEquals(List.of(ConnectorMetadata.NONE), h.worker(rank, 1).bound, "b said nothing");
            assertEquals(List.of(new Orders("c")), h.worker(rank, 2).bound);
            assertEquals(List.of(new Orders("a")), h.worker(rank, 0).preemptions, "handlePreemptions too");
            assertEquals(List.of(new Orders("c")), h.worker(rank, 2).preemptions);
        }
    }

    @Test
    void metadataThatIsNotTheCompositesBindsEveryChildToNone() {
        Harness h = new Harness(1, "a", "b");
        MultiWorker w = h.workerSides.getFirst();
        w.handlePreemptions(ConnectorMetadata.NONE);
        w.bindConnectorMetadata(ConnectorMetadata.NONE);
        assertEquals(List.of(ConnectorMetadata.NONE), h.worker(0, 0).bound);
        assertEquals(List.of(ConnectorMetadata.NONE), h.worker(0, 1).bound);
    }

    /** The four shapes for two children on one worker: none/none, none/some, some/none, both. */
    @ParameterizedTest(name = "a {0}, b {1}")
    @CsvSource({"none, none", "none, some", "some, none", "some, some"})
    void eachChildSeesOnlyItsOwnSlotOfTheWorkerMetadata(String a, String b) {
        Harness h = new Harness(1, "a", "b");
        if (a.equals("some")) {
            h.worker(0, 0).metadata = Optional.of(Tags.of("a", "a0"));
        }
        if (b.equals("some")) {
            h.worker(0, 1).metadata = Optional.of(Tags.of("b", "b0"));
        }
        ConnectorOutput out = h.step();

        if (a.equals("none") && b.equals("none")) {
            assertEquals(Optional.empty(), out.workerMetadata(), "nothing to say: no metadata at all");
        } else {
            var multi = assertInstanceOf(
                    MultiWorkerMetadata.class, out.workerMetadata().orElseThrow());
            assertEquals(2, multi.children().size());
        }
        assertEquals(
                a.equals("some") ? Optional.of(Tags.of("a", "a0")) : Optional.empty(),
                h.child(0).lastOutput().workerMetadata());
        assertEquals(
                b.equals("some") ? Optional.of(Tags.of("b", "b0")) : Optional.empty(),
                h.child(1).lastOutput().workerMetadata());
        assertEquals(List.of(), h.schedulerFailures);
    }

    @Test
    void slotsAggregateAcrossWorkersChildByChild() {
        // rank 0: some/none, rank 1: none/some, rank 2: both.
        Harness h = new Harness(3, "a", "b");
        h.worker(0, 0).metadata = Optional.of(Tags.of("a", "a0"));
        h.worker(1, 1).metadata = Optional.of(Tags.of("b", "b1"));
        h.worker(2, 0).metadata = Optional.of(Tags.of("a", "a2"));
        h.worker(2, 1).metadata = Optional.of(Tags.of("b", "b2"));
        h.step();

        assertEquals(
                Optional.of(Tags.of("a", "a0", "a2")), h.child(0).lastOutput().workerMetadata());
        assertEquals(
                Optional.of(Tags.of("b", "b1", "b2")), h.child(1).lastOutput().workerMetadata());

        // The fold itself: associative, and no operand changes.
        List<WorkerMetadata> ranks = h.perRankOutputs.getLast().stream()
                .map(o -> o.workerMetadata().orElseThrow())
                .toList();
        List<WorkerMetadata> before = List.copyOf(ranks);
        WorkerMetadata left = ranks.get(0).aggregate(ranks.get(1)).aggregate(ranks.get(2));
        WorkerMetadata right = ranks.get(0).aggregate(ranks.get(1).aggregate(ranks.get(2)));
        assertEquals(left, right);
        assertEquals(before, ranks);
        var r0 = (MultiWorkerMetadata) ranks.get(0);
        assertEquals(Optional.of(Tags.of("a", "a0")), r0.child(0).metadata());
        assertEquals(ChildReport.EMPTY, r0.child(1));
    }

    @Test
    void aChildsBrokenAggregateLosesOnlyItsOwnSlotAndIsReported() {
        WorkerMetadata broken = other -> {
            throw new IllegalStateException("cannot add");
        };
        var r0 = new MultiWorkerMetadata(List.of(report(broken), report(Tags.of("b", "x"))));
        var r1 = new MultiWorkerMetadata(List.of(report(broken), report(Tags.of("b", "y"))));
        var sum = (MultiWorkerMetadata) r0.aggregate(r1);
        assertEquals(Optional.of(broken), sum.child(0).metadata(), "the earlier value is kept");
        assertEquals(1, sum.child(0).aggregateFailures().size());
        assertEquals(Optional.of(Tags.of("b", "x", "y")), sum.child(1).metadata(), "the sibling is unaffected");

        assertThrows(
                IllegalArgumentException.class,
                () -> r0.aggregate(new MultiWorkerMetadata(List.of(ChildReport.EMPTY))),
                "different width");
        assertThrows(IllegalArgumentException.class, () -> r0.aggregate(Tags.of("a")), "foreign type");

        // The scheduler side names the child.
        Harness h = new Harness(1, "a", "b");
        var e = assertThrows(
                ChildFailedException.class,
                () -> h.scheduler.updateConnectorOutput(ConnectorOutput.EMPTY.withWorkerMetadata(Optional.of(sum))));
        assertEquals("0:a", e.child());
        assertEquals(
                Optional.of(Tags.of("b", "x", "y")),
                h.child(1).lastOutput().workerMetadata(),
                "b still got its output");
    }

    @Test
    void theCompositesOwnObjectsAreIntactWhenAChildThrows() {
        // Seed 002: the reference engine swapped each child's slot into the shared output object and
        // restored it in a finally block. Here the output is immutable and each child gets its own.
        Harness h = new Harness(1, "a", "b", "c");
        h.child(1).throwIn.add("updateConnectorOutput");
        var stats = new MultiStats(Map.of("0:a", CounterStats.of("x", 1L), "2:c", CounterStats.of("x", 3L)));
        var event = new KvEvent.AllBlocksCleared(StorageMedium.CPU);
        var metadata = new MultiWorkerMetadata(List.of(
                report(Tags.of("a", "a")),
                report(Tags.of("b", "b")),
                new ChildReport(
                        Optional.of(Tags.of("c", "c")), List.of(event), Set.of(9), Map.of(), Map.of(), List.of())));
        ConnectorOutput output = new ConnectorOutput(
                Set.of(), Set.of(), Set.of(9), Optional.of(stats), List.of(event), Optional.of(metadata));
        ConnectorOutput copy = new ConnectorOutput(
                Set.of(), Set.of(), Set.of(9), Optional.of(stats), List.of(event), Optional.of(metadata));

        var e = assertThrows(ChildFailedException.class, () -> h.scheduler.updateConnectorOutput(output));

        assertEquals("1:b", e.child());
        assertEquals(copy, output, "the composite's output is unchanged");
        assertEquals(Optional.of(Tags.of("a", "a")), h.child(0).lastOutput().workerMetadata());
        assertEquals(
                Optional.of(Tags.of("c", "c")),
                h.child(2).lastOutput().workerMetadata(),
                "the child after the thrower still sees its own slot, not the composite's object");
        assertEquals(
                Optional.of(CounterStats.of("x", 3L)), h.child(2).lastOutput().stats());
        assertEquals(List.of(event), h.child(2).lastOutput().workerEvents());
        assertEquals(List.of(), h.child(0).lastOutput().workerEvents(), "events stay with their child");
        assertEquals(Set.of(9), h.child(2).lastOutput().invalidBlockIds());
        assertEquals(Set.of(), h.child(0).lastOutput().invalidBlockIds(), "load errors stay with their child");

        // And the next step works as before.
        h.child(1).throwIn.clear();
        h.scheduler.updateConnectorOutput(output);
        assertEquals(Optional.of(Tags.of("b", "b")), h.child(1).lastOutput().workerMetadata());
        assertNotEquals(ConnectorOutput.EMPTY, h.child(1).lastOutput());
    }

    @Test
    void loadErrorsNoSlotAccountsForAreShownToEveryChild() {
        Harness h = new Harness(1, "a", "b");
        h.scheduler.updateConnectorOutput(
                new ConnectorOutput(Set.of(), Set.of(), Set.of(5), Optional.empty(), List.of(), Optional.empty()));
        assertEquals(Set.of(5), h.child(0).lastOutput().invalidBlockIds());
        assertEquals(Set.of(5), h.child(1).lastOutput().invalidBlockIds());
    }

    @Test
    void loadErrorsAreAttributedToTheChildThatReportedThem() {
        Harness h = new Harness(2, "a", "b");
        h.worker(1, 1).loadErrors = Set.of(12, 13);
        ConnectorOutput out = h.step();
        assertEquals(Set.of(12, 13), out.invalidBlockIds());
        assertEquals(Set.of(), h.child(0).lastOutput().invalidBlockIds());
        assertEquals(Set.of(12, 13), h.child(1).lastOutput().invalidBlockIds());
    }

    @Test
    void eachChildBuildsFromTheStepAndTheSameOutputObjectWhenNothingIsNested() {
        Harness h = new Harness(1, "a", "b");
        var view = new FakeSchedulerOutput(3, List.of(), Set.of(), Set.of("x"));
        h.step(view);
        assertTrue(
                h.child(0).seenOutputs.getFirst() == view
                        && h.child(1).seenOutputs.getFirst() == view,
                "no wrapper unless a request carries nested transfer parameters");
    }

    @Test
    void aChildWithNestedParametersReadsItsOwnRequestViewsByIndexToo() {
        Harness h = new Harness(1, "a", "b");
        FakeRequest plain = Harness.request("p");
        FakeRequest nested = Harness.request("n", 64, TransferParams.of(Map.of("1:b", Map.of("peer", "e2"))));
        var view = FakeSchedulerOutput.of(
                3,
                List.of(
                        new ScheduledRequest(plain, ScheduledRequest.Kind.CONTINUING, 1, 40, BlockIds.empty()),
                        new ScheduledRequest(nested, ScheduledRequest.Kind.NEW, 64, 0, BlockIds.of(1, 2))));
        h.step(view);

        assertSame(view, h.child(0).seenOutputs.getFirst(), "child a has no parameters of its own");
        SchedulerOutputView seen = h.child(1).seenOutputs.getFirst();
        assertNotSame(view, seen);
        assertEquals(2, seen.numScheduledRequests());
        assertSame(plain, seen.requestAt(0), "a request without nested parameters is shown as it is");
        assertEquals(Map.of("peer", "e2"), seen.requestAt(1).transferParams().asMap());
        assertEquals("n", seen.requestAt(1).requestId());
        for (int i = 0; i < 2; i++) {
            ScheduledRequest entry = seen.scheduledRequests().get(i);
            assertSame(entry.request(), seen.requestAt(i));
            assertEquals(entry.kind(), seen.kindAt(i));
            assertEquals(entry.numScheduledTokens(), seen.numScheduledTokensAt(i));
            assertEquals(entry.numComputedTokensBefore(), seen.numComputedTokensBeforeAt(i));
        }
    }

    private static ChildReport report(WorkerMetadata m) {
        return new ChildReport(Optional.of(m), List.of(), Set.of(), Map.of(), Map.of(), List.of());
    }
}
