package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.logging.RateLimitedLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Counting one direction's finished reports by distinct rank: when a transfer completes, and which
 * reports are ignored (duplicate, late, unknown), counted and logged within limits.
 */
class RankCountdownTest {
    private final SchedulerStats stats = new SchedulerStats();
    /** Lines written through a limiter of 10 lines per kind and minute, on a clock the test moves. */
    private final List<String> logLines = new ArrayList<>();

    private long nanos;
    private final RateLimitedLog limiter =
            new RateLimitedLog((level, line, cause) -> logLines.add(line), 10, Duration.ofMinutes(1), () -> nanos);

    private RankCountdown countdown(int ranks, int expected) {
        return new RankCountdown("send", ranks, expected, stats, limiter);
    }

    /** One step's reports of {@code id}, by the given ranks; returns what completed in the step. */
    private static Set<String> step(RankCountdown c, String id, boolean awaited, int... ranks) {
        Set<String> completed = new HashSet<>();
        for (int rank : ranks) {
            c.report(id, rank, awaited, completed);
        }
        return completed;
    }

    @Test
    void completesOnceTheExpectedNumberOfDistinctRanksReported() {
        RankCountdown c = countdown(3, 3);

        assertEquals(Set.of(), step(c, "a", true, 0, 2));
        assertEquals(1, c.pendingCount());
        assertEquals(Set.of("a"), step(c, "a", true, 1));
        assertEquals(0, c.pendingCount());
    }

    @Test
    void aRepeatedReportOfOneRankIsADuplicateAndDoesNotCompleteEarly() {
        RankCountdown c = countdown(2, 2);

        assertEquals(Set.of(), step(c, "a", true, 0));
        assertEquals(Set.of(), step(c, "a", true, 0));

        assertEquals(1, stats.duplicateFinishedReports());
        assertEquals(Set.of("a"), step(c, "a", true, 1));
    }

    @Test
    void reportsAfterCompletionInTheSameStepAreLate() {
        RankCountdown c = countdown(4, 2);

        // The transfer is still awaited (the scheduler has not seen the completion yet), but the
        // third report of the step must not start a new countdown.
        assertEquals(Set.of("a"), step(c, "a", true, 0, 2, 3));

        assertEquals(1, stats.lateFinishedReports());
        assertEquals(0, c.pendingCount());
    }

    @Test
    void aReportForARecentlyCompletedIdIsLateAndForAnyOtherUnawaitedIdUnknown() {
        RankCountdown c = countdown(1, 1);
        step(c, "done", true, 0);

        step(c, "done", false, 0);
        step(c, "stranger", false, 0);

        assertEquals(1, stats.lateFinishedReports());
        assertEquals(1, stats.unknownFinishedReports());
        assertEquals(0, c.pendingCount(), "neither starts a countdown");
    }

    @Test
    void aPartialCountIsDroppedWhenTheIdIsNoLongerAwaited() {
        RankCountdown c = countdown(2, 2);
        step(c, "a", true, 0);

        step(c, "a", false, 1);

        assertEquals(0, c.pendingCount());
        assertEquals(1, stats.unknownFinishedReports());
    }

    @Test
    void forgetDropsThePartialCountSoCountingStartsAgain() {
        RankCountdown c = countdown(2, 2);
        step(c, "a", true, 0);

        c.forget("a");
        c.forget("never-seen");

        assertEquals(0, c.pendingCount());
        assertEquals(Set.of(), step(c, "a", true, 1), "rank 0's earlier report no longer counts");
        assertEquals(Set.of("a"), step(c, "a", true, 0));
    }

    @Test
    void theMemoryOfCompletedIdsIsBoundedSoOldIdsBecomeUnknown() {
        RankCountdown c = countdown(1, 1);
        for (int i = 0; i <= RankCountdown.RECENT_COMPLETED_CAPACITY; i++) {
            step(c, "s" + i, true, 0);
        }

        step(c, "s0", false, 0);
        step(c, "s1", false, 0);

        assertEquals(1, stats.unknownFinishedReports(), "s0 was forgotten");
        assertEquals(1, stats.lateFinishedReports(), "s1 is still remembered");
    }

    @Test
    void aHundredThousandUnknownIdsCostABoundedNumberOfLinesAndAreAllCounted() {
        RankCountdown c = countdown(2, 2);
        Set<String> completed = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            c.report("u" + i, 0, false, completed);
        }

        assertEquals(100_000, stats.unknownFinishedReports(), "every unknown report is counted");
        assertEquals(10, logLines.size(), "one kind, ten lines: " + logLines.size());

        nanos += Duration.ofMinutes(1).toNanos();
        c.flushLog();

        assertEquals(11, logLines.size());
        assertEquals(
                "... and 99990 more like this suppressed in the last 60 s (kind finished-unknown)", logLines.get(10));
    }

    @Test
    void repeatedDuplicatesAreLimitedPerKind() {
        RankCountdown c = countdown(2, 2);
        for (int step = 0; step < 50; step++) {
            step(c, "a", true, 0);
        }

        assertEquals(49, stats.duplicateFinishedReports());
        assertEquals(10, logLines.size(), logLines.toString());
        assertTrue(
                logLines.stream().allMatch(l -> l.startsWith("Ignoring duplicate finished send")), logLines.toString());
    }
}
