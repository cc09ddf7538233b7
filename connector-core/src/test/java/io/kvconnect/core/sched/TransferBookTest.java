package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.KvCacheManager;
import io.kvconnect.core.kv.PrefixHit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The transfer book driven directly: which waits hold a request's blocks, fences, load grants,
 * the watchdog's deadlines, and counting the workers' finished reports by rank across steps.
 */
class TransferBookTest {
    private static final long TIMEOUT = 1_000;

    private final SchedulerStats stats = new SchedulerStats();
    private final BlockPool pool = new BlockPool(17, 4, true);
    private final KvCacheManager kv = new KvCacheManager(pool);
    private long now;
    private final ConnectorWatchdog watchdog = new ConnectorWatchdog(TIMEOUT, () -> now);
    private final TransferBook book = new TransferBook(kv, watchdog, stats);

    private TransferBook counting(int ranks) {
        book.expectReports(ranks, OptionalInt.empty());
        return book;
    }

    private static FinishedTransfers sending(String... ids) {
        return new FinishedTransfers(Set.of(ids), Set.of());
    }

    private static FinishedTransfers receiving(String... ids) {
        return new FinishedTransfers(Set.of(), Set.of(ids));
    }

    private static FinishedTransfers none() {
        return FinishedTransfers.NONE;
    }

    /**
     * One step: counts the ranks' reports and, as the scheduler does, ends the waits of the
     * transfers they completed; returns those.
     */
    private FinishedTransfers step(FinishedTransfers... perRank) {
        FinishedTransfers done = book.countReports(Arrays.asList(perRank));
        done.sending().forEach(book::sendReported);
        done.receiving().forEach(book::receiveReported);
        return done;
    }

    // ---- what holds a request's blocks -----------------------------------------------------------

    @Test
    void aSendAReceiveOrAFenceEachHoldTheBlocksUntilItEnds() {
        counting(1);
        book.awaitSend("s");
        book.awaitReceive("r");
        book.fence("f", 7);
        assertTrue(book.holds("s") && book.holds("r") && book.holds("f"));
        assertFalse(book.holds("other"));

        book.stopAwaitingSend("s");
        book.stopAwaitingReceive("r");
        assertEquals(List.of(), book.endFences(6), "the fence lasts until step 7 was applied");
        assertEquals(List.of("f"), book.endFences(7));

        assertFalse(book.holds("s") || book.holds("r") || book.holds("f"));
        assertTrue(book.isEmpty());
    }

    @Test
    void aReportForATransferNobodyWaitsForIsIgnoredAndLeavesNoTrace() {
        counting(1);

        assertFalse(book.sendReported("x"));
        assertFalse(book.receiveReported("y"));
        assertEquals(0, book.reports(), "no progress counted");
        assertTrue(book.isEmpty());
    }

    @Test
    void finishedReportsAreProgressAndEndTheWait() {
        counting(1);
        book.awaitSend("s");
        book.awaitReceive("r");

        assertTrue(book.sendReported("s"));
        assertTrue(book.receiveReported("r"));

        assertEquals(2, book.reports());
        assertFalse(book.awaitingSend("s") || book.awaitingReceive("r"));
    }

    @Test
    void theOutcomeOfAFinishedLoadIsKeptUntilTakenOrForgotten() {
        counting(1);
        book.loadFinished("a");
        book.loadFailed("b");
        book.loadFinished("c");
        book.loadFailed("c");

        assertTrue(book.takeFinishedLoad("a"));
        assertFalse(book.takeFinishedLoad("a"), "taken once");
        assertTrue(book.takeFailedLoad("b"));
        book.forgetLoadOutcome("c");
        assertEquals(Set.of(), book.finishedLoads());
        assertEquals(Set.of(), book.failedLoads());
    }

    // ---- deadlines and grants --------------------------------------------------------------------

    @Test
    void everyWaitHasADeadlineThatEndsWithIt() {
        counting(1);
        book.awaitSend("s");
        book.awaitReceive("r");
        book.awaitReceive("ended");
        book.stopAwaitingReceive("ended");

        now = TIMEOUT;

        assertEquals(List.of("s"), watchdog.expiredSends());
        assertEquals(List.of("r"), watchdog.expiredReceives());
    }

    @Test
    void aGrantedLoadMayWriteItsRangeUntilTheLoadEnds() {
        counting(1);
        int[] blocks = kv.allocate("a", 12, PrefixHit.NONE);

        // Tokens [4, 10): blocks 1 and 2 of the request, not block 0.
        book.grantLoad("a", 4, 6);
        assertFalse(pool.grants().writable(blocks[0]));
        assertTrue(pool.grants().writable(blocks[1]) && pool.grants().writable(blocks[2]));

        book.endLoads("a");
        assertFalse(pool.grants().writable(blocks[1]) || pool.grants().writable(blocks[2]));
    }

    // ---- counting finished reports by rank ----------------------------------------------------------

    @Test
    void twoWorkersCompleteOnlyWhenBothReportedAcrossSteps() {
        counting(2);
        book.awaitSend("a");
        book.awaitReceive("b");

        FinishedTransfers step1 = step(sending("a"), receiving("b"));
        assertEquals(FinishedTransfers.NONE, step1);
        assertEquals(2, book.pendingReportCount());

        assertEquals(receiving("b"), step(receiving("b"), none()));
        assertEquals(sending("a"), step(none(), sending("a")));
        assertEquals(0, book.pendingReportCount());
        assertEquals(
                0, stats.duplicateFinishedReports() + stats.lateFinishedReports() + stats.unknownFinishedReports());
    }

    @Test
    void fourWorkersCompleteInTheStepOfTheLastRank() {
        counting(4);
        book.awaitSend("a");
        book.awaitSend("b");

        assertEquals(
                Set.of(), step(sending("a"), sending("a", "b"), none(), none()).sending());
        assertEquals(
                Set.of(), step(none(), none(), sending("a", "b"), sending("b")).sending());
        assertEquals(Set.of("b"), step(sending("b"), none(), none(), none()).sending());
        assertEquals(1, book.pendingReportCount());
        assertEquals(Set.of("a"), step(none(), none(), none(), sending("a")).sending());
        assertEquals(0, book.pendingReportCount());
    }

    @Test
    void aSmallerExpectedCountCompletesEarlyAndLaterRanksAreLate() {
        book.expectReports(4, OptionalInt.of(2));
        book.awaitSend("a");

        // Three ranks in the step that completes it: the third is late although the wait has not
        // ended yet.
        assertEquals(
                Set.of("a"),
                step(sending("a"), none(), sending("a"), sending("a")).sending());
        assertEquals(Set.of(), step(none(), sending("a"), none(), none()).sending());

        assertEquals(2, stats.lateFinishedReports());
        assertEquals(0, book.pendingReportCount());
    }

    @Test
    void anExpectedCountOfOneCompletesOnTheFirstReport() {
        book.expectReports(2, OptionalInt.of(1));
        book.awaitReceive("r");

        assertEquals(Set.of("r"), step(none(), receiving("r")).receiving());
    }

    @Test
    void eachTransferCompletesExactlyOnceUnderRandomReporting() {
        Random random = new Random(42);
        int workers = 4;
        counting(workers);
        Map<String, Integer> completed = new HashMap<>();
        // Each id's reporting ranks, still to report, in a random order per id.
        Map<String, List<Integer>> toReport = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            String id = "req-" + i;
            book.awaitSend(id);
            List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3));
            Collections.shuffle(order, random);
            toReport.put(id, order);
        }
        int steps = 0;
        while (!toReport.isEmpty()) {
            steps++;
            List<Set<String>> perRank = new ArrayList<>();
            for (int r = 0; r < workers; r++) {
                perRank.add(new HashSet<>());
            }
            for (var it = toReport.entrySet().iterator(); it.hasNext(); ) {
                var entry = it.next();
                if (random.nextInt(3) == 0) {
                    perRank.get(entry.getValue().removeFirst()).add(entry.getKey());
                }
                if (entry.getValue().isEmpty()) {
                    it.remove();
                }
            }
            FinishedTransfers[] reports = perRank.stream()
                    .map(s -> new FinishedTransfers(s, Set.of()))
                    .toArray(FinishedTransfers[]::new);
            for (String id : step(reports).sending()) {
                completed.merge(id, 1, Integer::sum);
            }
        }
        assertTrue(steps > 4);
        assertEquals(200, completed.size());
        assertTrue(completed.values().stream().allMatch(n -> n == 1), "completed more than once: " + completed);
        assertEquals(0, book.pendingReportCount());
        assertTrue(book.isEmpty());
    }

    @Test
    void directionsAreCountedSeparately() {
        counting(1);
        book.awaitSend("a");

        // Awaited as a send only: a receive report for it is unknown and does not touch the send.
        assertEquals(FinishedTransfers.NONE, step(receiving("a")));
        assertEquals(1, stats.unknownFinishedReports());
        assertEquals(sending("a"), step(sending("a")));
    }

    @Test
    void aWaitThatEndsAnotherWayDropsItsPartialCount() {
        counting(2);
        book.awaitSend("a");
        book.awaitReceive("b");
        step(sending("a"), receiving("b"));
        assertEquals(2, book.pendingReportCount());

        // The watchdog gave both up, say: no count may outlive its wait.
        book.stopAwaitingSend("a");
        book.stopAwaitingReceive("b");

        assertEquals(0, book.pendingReportCount());
        step(none(), sending("a"));
        assertEquals(1, stats.unknownFinishedReports(), "the second rank's report is no longer awaited");
    }

    @Test
    void aNewWaitForTheSameRequestCountsFromZero() {
        counting(2);
        book.awaitReceive("r");
        step(receiving("r"), none());
        book.stopAwaitingReceive("r");

        book.awaitReceive("r");

        assertEquals(Set.of(), step(none(), receiving("r")).receiving(), "the first wait's report does not count");
        assertEquals(Set.of("r"), step(receiving("r"), none()).receiving());
    }

    @Test
    void aLateReportAfterCompletionIsIgnoredAndStartsNoCountdown() {
        counting(2);
        book.awaitReceive("r");
        assertEquals(Set.of("r"), step(receiving("r"), receiving("r")).receiving());

        assertEquals(FinishedTransfers.NONE, step(receiving("r"), none()));

        assertEquals(1, stats.lateFinishedReports());
        assertEquals(0, book.pendingReportCount());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 5})
    void anExpectedCountOutsideTheWorkersIsRefused(int expected) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> book.expectReports(4, OptionalInt.of(expected)));
        assertEquals("expected finished count must be in [1, 4], got " + expected, e.getMessage());
    }

    @Test
    void noWorkersIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> book.expectReports(0, OptionalInt.empty()));
    }
}
