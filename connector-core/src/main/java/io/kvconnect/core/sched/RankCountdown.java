package io.kvconnect.core.sched;

import io.kvconnect.core.logging.RateLimitedLog;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the workers' reports of finished transfers in one direction (sends or receives) until
 * the expected number of distinct ranks reported a request, across steps; the transfer then
 * completes exactly once. Unlike vLLM, a repeated report from one rank is not counted twice, and a
 * report for a request nobody waits for never starts a countdown, so no stray report can complete
 * a transfer early or leave a count behind forever.
 *
 * <p>Every report that is ignored is counted in {@link SchedulerStats} (duplicate, late, unknown);
 * the log lines about them go through a {@link RateLimitedLog}, because how many there are is up
 * to the plugin: a connector reporting 100,000 unknown ids in a step costs a few lines.
 *
 * <p><b>Thread.</b> Engine thread only; owned by the {@link TransferBook}.
 */
final class RankCountdown {
    private static final Logger LOG = LoggerFactory.getLogger(RankCountdown.class);

    /** How many completed ids are remembered, to tell a late report from an unknown one. */
    static final int RECENT_COMPLETED_CAPACITY = 4096;

    private final String direction;
    private final int ranks;
    private final int expected;
    private final SchedulerStats stats;
    private final RateLimitedLog log;
    /** Ranks that reported each awaited, not yet complete id. */
    private final Map<String, BitSet> pending = new HashMap<>();
    /** The last completed ids, oldest first, bounded so that it cannot grow with the engine's lifetime. */
    private final LinkedHashSet<String> recentlyCompleted = new LinkedHashSet<>();

    /**
     * @param direction {@code "send"} or {@code "receive"}, for messages
     * @param ranks workers that report, at least 1
     * @param expected distinct ranks that must report an id, in {@code [1, ranks]}
     * @param stats where ignored reports are counted
     * @param log where lines about ignored reports go (tests capture them)
     */
    RankCountdown(String direction, int ranks, int expected, SchedulerStats stats, RateLimitedLog log) {
        this.direction = direction;
        this.ranks = ranks;
        this.expected = expected;
        this.stats = stats;
        this.log = log;
    }

    /** A countdown logging through the shared limiter of its own logger. */
    RankCountdown(String direction, int ranks, int expected, SchedulerStats stats) {
        this(direction, ranks, expected, stats, RateLimitedLog.forLogger(LOG));
    }

    /** Writes due summaries of held-back lines; called once per step that reports anything. */
    void flushLog() {
        log.flushDue();
    }

    /**
     * Counts one report of {@code id} by {@code rank}, and adds the id to {@code completed} when
     * this report completes it.
     *
     * @param awaited whether the scheduler waits for {@code id} in this direction
     * @param completed the ids completed so far in this step (a report of one of them is late)
     */
    void report(String id, int rank, boolean awaited, Set<String> completed) {
        // Completed earlier in this very step (expected < ranks): the scheduler has not seen the
        // completion yet, so it still waits for the id and a new countdown would start.
        if (completed.contains(id)) {
            dropLate(id, rank);
            return;
        }
        if (!awaited) {
            // Any partial count is useless now that nobody waits.
            pending.remove(id);
            if (recentlyCompleted.contains(id)) {
                dropLate(id, rank);
            } else {
                stats.unknownFinishedReports++;
                log.warn(
                        "finished-unknown",
                        "Ignoring finished {} of request {} from rank {}: the scheduler is " + "not waiting for it",
                        direction,
                        id,
                        rank);
            }
            return;
        }
        BitSet reported = pending.computeIfAbsent(id, k -> new BitSet(ranks));
        if (reported.get(rank)) {
            stats.duplicateFinishedReports++;
            log.warn(
                    "finished-duplicate",
                    "Ignoring duplicate finished {} of request {} from rank {} ({} of {} " + "ranks so far)",
                    direction,
                    id,
                    rank,
                    reported.cardinality(),
                    expected);
            return;
        }
        reported.set(rank);
        if (reported.cardinality() == expected) {
            pending.remove(id);
            completed.add(id);
            recentlyCompleted.addLast(id);
            if (recentlyCompleted.size() > RECENT_COMPLETED_CAPACITY) {
                recentlyCompleted.removeFirst();
            }
        }
    }

    /**
     * Drops the partial count of {@code id}: the scheduler stopped waiting for it. Later reports
     * of it are late or unknown.
     */
    void forget(String id) {
        pending.remove(id);
    }

    /** How many ids have a partial count; zero once every awaited transfer completed or was forgotten. */
    int pendingCount() {
        return pending.size();
    }

    private void dropLate(String id, int rank) {
        stats.lateFinishedReports++;
        // With fewer expected ranks than workers, the remaining ranks report after completion
        // every time: routine, not worth a warning. With all ranks expected it means a rank
        // reported twice.
        if (expected < ranks) {
            log.debug(
                    "finished-late-routine",
                    "Ignoring late finished {} of request {} from rank {}",
                    direction,
                    id,
                    rank);
        } else {
            log.warn(
                    "finished-late",
                    "Ignoring late finished {} of request {} from rank {}: it already completed",
                    direction,
                    id,
                    rank);
        }
    }
}
