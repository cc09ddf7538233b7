package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The engine counts finished transfers per distinct rank up to the connector's expected count. The
 * composite keeps those counts right when several children report the same request, and when
 * children need different numbers of reports (relay mode).
 */
class FinishedCountTest {
    @Test
    void childrenThatAllNeedEveryWorkerAreCountedByTheEngineDirectly() {
        Harness h = new Harness(2, "a", "b");
        h.child(0).expected = OptionalInt.of(2);
        assertEquals(OptionalInt.empty(), h.scheduler.expectedFinishedCount());
        h.step();
        assertFalse(h.lastMulti().relay());
    }

    @Test
    void oneWorkerNeverNeedsRelaying() {
        Harness h = new Harness(1, "a", "b");
        h.child(0).expected = OptionalInt.of(1);
        assertEquals(OptionalInt.empty(), h.scheduler.expectedFinishedCount());
    }

    @Test
    void childrenWithDifferentCountsAreCountedPerChildAndRelayedByRankZero() {
        // a's sends are reported by one rank (any one), b's by every rank.
        Harness h = new Harness(2, "a", "b");
        h.child(0).expected = OptionalInt.of(1);
        assertEquals(OptionalInt.of(1), h.scheduler.expectedFinishedCount(), "the composite counts itself");
        h.child(0).finish = FinishResult.delayFree(TransferParams.empty());
        h.child(1).finish = FinishResult.delayFree(TransferParams.empty());
        h.finish("r");

        // Step 1: a reports on rank 1 (its only reporting rank), b on rank 0.
        h.worker(1, 0).sending = Set.of("r");
        h.worker(0, 1).sending = Set.of("r");
        ConnectorOutput s1 = h.step();
        assertTrue(h.lastMulti().relay());
        assertEquals(Set.of(), s1.finishedSending(), "no worker reports a child's send directly");
        assertEquals(Set.of("r"), h.child(0).lastOutput().finishedSending(), "a's one report completes a");
        assertEquals(Set.of(), h.child(1).lastOutput().finishedSending(), "b has 1 of 2");

        // Step 2: b reports on rank 1 too: b completes, r is released for the next step.
        h.worker(1, 1).sending = Set.of("r");
        ConnectorOutput s2 = h.step();
        assertEquals(Set.of(), s2.finishedSending());
        assertEquals(Set.of("r"), h.child(1).lastOutput().finishedSending());
        assertEquals(Set.of(), h.child(0).lastOutput().finishedSending(), "a is told once");
        assertTrue(h.scheduler.hasPendingWork(), "the release must reach the workers");

        // Step 3: rank 0 reports it on the composite's behalf; the engine's count of 1 completes.
        ConnectorOutput s3 = h.step();
        assertEquals(Set.of("r"), h.lastMulti().releaseSending());
        assertEquals(Set.of("r"), h.perRankOutputs.getLast().get(0).finishedSending());
        assertEquals(Set.of(), h.perRankOutputs.getLast().get(1).finishedSending(), "only rank 0 relays");
        assertEquals(Set.of("r"), s3.finishedSending());
        assertEquals(Set.of(), h.child(0).lastOutput().finishedSending(), "children were told already");
        assertEquals(Set.of(), h.child(1).lastOutput().finishedSending());
        assertEquals(0, h.scheduler.awaitedTransfers());
        assertFalse(h.scheduler.hasPendingWork());
    }

    @Test
    void relayedLoadsCountTheLoadersReportsOnly() {
        Harness h = new Harness(2, "a", "b");
        h.child(1).expected = OptionalInt.of(1);
        h.scheduler.expectedFinishedCount();
        var r = Harness.request("r");
        h.child(1).matches.put("r", MatchResult.async(8));
        h.scheduler.getNumNewMatchedTokens(r, 0);
        h.scheduler.updateStateAfterAlloc(r, BlockIds.of(1, 2, 3), 0, 8);

        h.worker(0, 0).receiving = Set.of("r"); // a is not the loader
        h.step();
        assertEquals(Set.of(), h.child(0).lastOutput().finishedReceiving());
        assertEquals(Set.of(), h.child(1).lastOutput().finishedReceiving());

        h.worker(1, 1).receiving = Set.of("r");
        h.step();
        assertEquals(Set.of("r"), h.child(1).lastOutput().finishedReceiving(), "one report of b's completes b");
        ConnectorOutput relayed = h.step();
        assertEquals(Set.of("r"), relayed.finishedReceiving());
        assertEquals(Set.of(), h.child(1).lastOutput().finishedReceiving(), "told once");
        assertEquals(0, h.scheduler.awaitedTransfers());
    }

    @Test
    void aCountOutsideTheWorkersIsAnErrorAndEveryWorkerIsAwaited() {
        Harness h = new Harness(2, "a", "b");
        h.child(1).expected = OptionalInt.of(3);
        assertEquals(OptionalInt.empty(), h.scheduler.expectedFinishedCount());
        h.step();
        var e = assertInstanceOf(ChildFailedException.class, h.schedulerFailures.getFirst());
        assertEquals("1:b", e.child());
        assertEquals("expectedFinishedCount", e.hook());
    }
}
