package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.FinishResult;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Saves go to every child; a request's blocks are freed only after the last child that delayed
 * the free reported its send finished (direct mode: every child needs every worker's report).
 */
class SaveRoutingTest {
    @Test
    void everyChildLearnsOfTheFinishAndTheBlocksWaitForTheLastDelayingChild() {
        Harness h = new Harness(2, "a", "b", "c");
        h.child(0).finish = FinishResult.delayFree(TransferParams.empty());
        h.child(2).finish = FinishResult.delayFree(TransferParams.empty());

        FinishResult result = h.finish("r");
        assertTrue(result.delayFree());
        for (FakeScheduler child : h.children) {
            assertEquals(List.of("requestFinished:r"), child.calls("requestFinished"), child.name);
        }

        // Step 1: the workers learn who delayed r. a reports on both ranks, c on rank 0 only.
        h.worker(0, 0).sending = Set.of("r");
        h.worker(1, 0).sending = Set.of("r");
        h.worker(0, 2).sending = Set.of("r");
        ConnectorOutput first = h.step();
        assertEquals(Map.of("r", Set.of(0, 2)), h.lastMulti().delayedSends());
        assertEquals(Set.of("r"), h.perRankOutputs.getLast().get(0).finishedSending(), "rank 0: a and c are done");
        assertEquals(Set.of(), h.perRankOutputs.getLast().get(1).finishedSending(), "rank 1: c is not");
        assertEquals(Set.of(), first.finishedSending(), "so the blocks stay held");
        assertEquals(Set.of(), h.child(0).lastOutput().finishedSending());

        // Step 2: c finishes on rank 1 too; now the engine's count completes, once.
        h.worker(1, 2).sending = Set.of("r");
        ConnectorOutput second = h.step();
        assertEquals(Set.of("r"), h.perRankOutputs.getLast().get(1).finishedSending());
        assertEquals(Set.of(), h.perRankOutputs.getLast().get(0).finishedSending(), "rank 0 reported it once only");
        assertEquals(Set.of("r"), second.finishedSending());
        assertEquals(Set.of("r"), h.child(0).lastOutput().finishedSending(), "a delayed: it is told");
        assertEquals(Set.of(), h.child(1).lastOutput().finishedSending(), "b did not delay: it is not");
        assertEquals(Set.of("r"), h.child(2).lastOutput().finishedSending());
        assertEquals(0, h.scheduler.awaitedTransfers());
        h.workerSides.forEach(w -> assertEquals(0, w.awaitedSends()));
    }

    @Test
    void aReportFromAChildThatDidNotDelayCannotCompleteTheCountEarly() {
        Harness h = new Harness(1, "a", "b");
        h.child(0).finish = FinishResult.delayFree(TransferParams.empty());
        h.finish("r");
        h.worker(0, 1).sending = Set.of("r"); // b did not delay r
        assertEquals(Set.of(), h.step().finishedSending());
        h.worker(0, 0).sending = Set.of("r");
        assertEquals(Set.of("r"), h.step().finishedSending());
    }

    @Test
    void aRequestNobodyDelaysIsFreedAtOnce() {
        Harness h = new Harness(1, "a", "b");
        assertEquals(FinishResult.freeNow(), h.finish("r"));
        assertTrue(h.step().finishedSending().isEmpty());
    }

    @Test
    void transferParametersOfSeveralChildrenAreMergedUnderEachChildsName() {
        Harness h = new Harness(1, "nixl", "offload", "nixl");
        h.child(0).finish = FinishResult.delayFree(TransferParams.of(Map.of("remote_engine", "p1")));
        h.child(2).finish = new FinishResult(false, TransferParams.of(Map.of("remote_engine", "p2")));

        FinishResult result = h.finish("r");

        assertTrue(result.delayFree());
        assertEquals(
                TransferParams.of(Map.of(
                        "0:nixl", Map.of("remote_engine", "p1"),
                        "2:nixl", Map.of("remote_engine", "p2"))),
                result.params(),
                "two children of the same type stay apart, nothing is refused");
    }

    @Test
    void aChildThrowingInRequestFinishedDoesNotFreeBlocksAnotherChildStillSends() {
        Harness h = new Harness(1, "a", "b");
        h.child(0).throwIn.add("requestFinished");
        h.child(1).finish = FinishResult.delayFree(TransferParams.of(Map.of("k", "v")));

        FinishResult result = h.finish("r");

        assertTrue(result.delayFree(), "b's send still holds the blocks");
        assertEquals(TransferParams.of(Map.of("1:b", Map.of("k", "v"))), result.params());
        // The failure is not lost: the next updateConnectorOutput throws it, naming the child.
        h.step();
        var e = assertInstanceOf(ChildFailedException.class, h.schedulerFailures.getFirst());
        assertEquals("0:a", e.child());
        assertEquals("requestFinished", e.hook());
        assertEquals(1, h.child(1).calls("updateConnectorOutput").size(), "every child was still updated");
        h.step();
        assertEquals(1, h.schedulerFailures.size(), "thrown once");
    }

    @Test
    void hasPendingWorkCoversWhatTheWorkersHaveNotBeenToldYet() {
        Harness h = new Harness(1, "a", "b");
        assertFalse(h.scheduler.hasPendingWork());
        h.child(1).finish = FinishResult.delayFree(TransferParams.empty());
        h.finish("r");
        assertTrue(h.scheduler.hasPendingWork(), "the delayed free must reach the workers");
        h.step();
        assertFalse(h.scheduler.hasPendingWork());
        h.child(0).pending = true;
        assertTrue(h.scheduler.hasPendingWork());
    }
}
