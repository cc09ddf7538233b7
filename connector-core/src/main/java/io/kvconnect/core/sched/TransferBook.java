package io.kvconnect.core.sched;

import io.kvconnect.core.kv.GrantLedger;
import io.kvconnect.core.kv.KvCacheManager;
import io.kvconnect.core.logging.RateLimitedLog;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every reason the scheduler keeps a request's GPU blocks beyond its own use, by request id:
 * <ul>
 *   <li>a <b>receive</b>: an asynchronous load in flight, which the workers will report finished;
 *       then, until the request is admitted again, whether it finished or failed;</li>
 *   <li>a <b>send</b>: a finished request whose blocks the connector still reads (a delayed
 *       free), until the workers report the send finished;</li>
 *   <li>a <b>fence</b>: a finished request whose blocks must outlive the step it was scheduled in,
 *       because a hook failed after the connector may have planned a copy into them.</li>
 * </ul>
 * A finished request's blocks are freed only once it {@link #holds} none of these. Every wait
 * that starts or ends here is told to the {@link ConnectorWatchdog}, which bounds it.
 *
 * <p>The book counts the workers' finished reports itself ({@link #countReports}): a transfer
 * completes once the expected number of ranks reported it ({@link RankCountdown}, one per
 * direction), and since the book knows what it waits for, nobody has to be asked. When a wait
 * ends any other way, its partial count is dropped with it. The book also grants loads their
 * target blocks ({@link GrantLedger}): a connector's copy may write a GPU block only between
 * {@link #grantLoad} and {@link #endLoads}.
 *
 * <p>Bookkeeping only: what a finished or failed transfer does to its request is the caller's
 * decision.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class TransferBook {
    private static final Logger LOG = LoggerFactory.getLogger(TransferBook.class);

    private final KvCacheManager kv;
    private final GrantLedger grants;
    private final int blockSize;
    private final ConnectorWatchdog watchdog;
    private final SchedulerStats stats;
    /**
     * Count finished sends and receives by rank; set once by {@link #expectReports}, before any wait
     * ends, and read through {@link #sends()} and {@link #receives()}. Not final: the number of
     * ranks that report each transfer is the connector's answer, asked once the scheduler (and so
     * this book) is built.
     */
    private @Nullable RankCountdown sendReports;

    private @Nullable RankCountdown receiveReports;
    /** Requests whose asynchronous load is in flight (the workers will report them received). */
    private final Set<String> awaitingReceive = new HashSet<>();
    /** Finished requests whose blocks wait for the connector's finished send. */
    private final Set<String> awaitingSend = new HashSet<>();
    /** Asynchronous loads reported finished, awaiting promotion. */
    private final Set<String> finishedReceiving = new HashSet<>();
    /** Asynchronous loads that failed (recompute policy); their computed count was truncated. */
    private final Set<String> failedReceiving = new HashSet<>();
    /** Finished requests whose blocks are kept until the step they were scheduled in has run. */
    private final Map<String, Long> fencedUntilStep = new HashMap<>();

    private final Set<String> awaitingReceiveView = Collections.unmodifiableSet(awaitingReceive);
    private final Set<String> awaitingSendView = Collections.unmodifiableSet(awaitingSend);
    /** Finished sends and receives reported so far: a sign of the connector's progress. */
    private long reports;

    /**
     * @param kv whose blocks loads are granted
     * @param watchdog told of every wait that starts or ends
     * @param stats where ignored finished reports are counted
     */
    TransferBook(KvCacheManager kv, ConnectorWatchdog watchdog, SchedulerStats stats) {
        this.kv = kv;
        this.grants = kv.pool().grants();
        this.blockSize = kv.pool().blockSize();
        this.watchdog = watchdog;
        this.stats = stats;
    }

    /**
     * How finished reports are counted: {@code ranks} workers report, and a transfer completes
     * once {@code expected} distinct ranks (empty: all) reported it. Called once, right after
     * construction: no wait may end before.
     *
     * @throws IllegalArgumentException if {@code ranks < 1} or the expected count is outside
     *     {@code [1, ranks]}
     */
    void expectReports(int ranks, OptionalInt expected) {
        if (ranks < 1) {
            throw new IllegalArgumentException("numWorkers must be at least 1, got " + ranks);
        }
        int count = expected.orElse(ranks);
        if (count < 1 || count > ranks) {
            throw new IllegalArgumentException("expected finished count must be in [1, " + ranks + "], got " + count);
        }
        sendReports = new RankCountdown("send", ranks, count, stats);
        receiveReports = new RankCountdown("receive", ranks, count, stats);
    }

    /** Counts through the given countdowns instead (tests capture their log lines). */
    void expectReports(RankCountdown sends, RankCountdown receives) {
        sendReports = sends;
        receiveReports = receives;
    }

    /**
     * Counts one step's finished reports rank by rank, each direction on its own, and returns the
     * transfers they completed. Reports for requests not awaited in that direction, repeated by a
     * rank, or for transfers already complete are ignored and counted (see {@link RankCountdown}).
     * Call once per step, with the step's reports, before any wait of the step ends.
     *
     * @param byRank the finished transfers each rank reported, indexed by rank
     * @return the sends and receives complete now; their waits end when the caller reports them
     *     ({@link #sendReported}, {@link #receiveReported})
     */
    FinishedTransfers countReports(List<FinishedTransfers> byRank) {
        RankCountdown sendCountdown = sends();
        RankCountdown receiveCountdown = receives();
        sendCountdown.flushLog();
        receiveCountdown.flushLog();
        Set<String> sends = new HashSet<>();
        Set<String> receives = new HashSet<>();
        for (int rank = 0; rank < byRank.size(); rank++) {
            FinishedTransfers reported = byRank.get(rank);
            for (String id : inIdOrder(reported.sending())) {
                sendCountdown.report(id, rank, awaitingSend.contains(id), sends);
            }
            for (String id : inIdOrder(reported.receiving())) {
                receiveCountdown.report(id, rank, awaitingReceive.contains(id), receives);
            }
        }
        return new FinishedTransfers(sends, receives);
    }

    /**
     * {@code ids} sorted, for everything whose order matters (the order of frees decides which
     * blocks are allocated and evicted next; the order of reports, which completed ids are
     * remembered). The API's sets ({@code Set.copyOf}) iterate in an order that changes from one
     * JVM run to the next, and a run must not depend on it.
     */
    static List<String> inIdOrder(Set<String> ids) {
        if (ids.size() < 2) {
            return List.copyOf(ids);
        }
        String[] sorted = ids.toArray(new String[0]);
        Arrays.sort(sorted);
        return Arrays.asList(sorted);
    }

    private RankCountdown sends() {
        return Objects.requireNonNull(sendReports, "expectReports was not called");
    }

    private RankCountdown receives() {
        return Objects.requireNonNull(receiveReports, "expectReports was not called");
    }

    /** Ids with a partial count of finished reports, both directions together (0 when nothing leaks). */
    int pendingReportCount() {
        return sends().pendingCount() + receives().pendingCount();
    }

    // ------------------------------------------------------------------ load grants

    /**
     * The connector may copy into {@code id}'s blocks covering {@code [fromToken, fromToken +
     * tokens)}: a load of them was granted.
     */
    void grantLoad(String id, int fromToken, int tokens) {
        for (int i = fromToken / blockSize; i < Math.ceilDiv(fromToken + tokens, blockSize); i++) {
            grants.grantLoad(kv.blockAt(id, i));
        }
    }

    /** Every load into {@code id}'s blocks ended (finished, failed or given up). */
    void endLoads(String id) {
        for (int b : kv.blockIds(id)) {
            grants.endLoad(b);
        }
    }

    // ------------------------------------------------------------------ receives

    /** {@code id}'s asynchronous load started (or may have: its blocks wait for the report either way). */
    void awaitReceive(String id) {
        awaitingReceive.add(id);
        watchdog.receiveStarted(id);
    }

    /** The engine no longer waits for {@code id}'s load (reported, given up, or never started). */
    void stopAwaitingReceive(String id) {
        awaitingReceive.remove(id);
        watchdog.receiveEnded(id);
        receives().forget(id);
    }

    boolean awaitingReceive(String id) {
        return awaitingReceive.contains(id);
    }

    /**
     * The workers reported {@code id}'s load finished: the wait ends.
     *
     * @return {@code false} if nothing waited for it (logged, rate-limited, and ignored)
     */
    boolean receiveReported(String id) {
        if (!awaitingReceive.contains(id)) {
            RateLimitedLog.forLogger(LOG)
                    .warn(
                            "finished-receive-not-loading",
                            "Finished receive for request '{}' that is not loading; ignored",
                            id);
            return false;
        }
        stopAwaitingReceive(id);
        reports++;
        return true;
    }

    /** {@code id}'s load finished while it still waits to be admitted: it may be promoted. */
    void loadFinished(String id) {
        finishedReceiving.add(id);
    }

    /** Takes the finished mark of {@code id}'s load: whether it was there. */
    boolean takeFinishedLoad(String id) {
        return finishedReceiving.remove(id);
    }

    /** A failure was reported for {@code id}'s load in flight (recompute policy): promote it truncated. */
    void loadFailed(String id) {
        failedReceiving.add(id);
    }

    /** Takes the failed mark of {@code id}'s load: whether it was there. */
    boolean takeFailedLoad(String id) {
        return failedReceiving.remove(id);
    }

    /** Forgets whether {@code id}'s load finished or failed (its blocks were freed or taken back). */
    void forgetLoadOutcome(String id) {
        finishedReceiving.remove(id);
        failedReceiving.remove(id);
    }

    // ------------------------------------------------------------------ sends

    /** {@code id} finished and the connector delays freeing its blocks until its send finishes. */
    void awaitSend(String id) {
        awaitingSend.add(id);
        watchdog.sendStarted(id);
    }

    /** The engine no longer waits for {@code id}'s send. */
    void stopAwaitingSend(String id) {
        awaitingSend.remove(id);
        watchdog.sendEnded(id);
        sends().forget(id);
    }

    boolean awaitingSend(String id) {
        return awaitingSend.contains(id);
    }

    /**
     * The workers reported {@code id}'s send finished: the wait ends.
     *
     * @return {@code false} if nothing waited for it (logged, rate-limited, and ignored)
     */
    boolean sendReported(String id) {
        if (!awaitingSend.contains(id)) {
            RateLimitedLog.forLogger(LOG)
                    .warn(
                            "finished-send-not-held",
                            "Finished send for request '{}' whose blocks are not held for sending; ignored",
                            id);
            return false;
        }
        stopAwaitingSend(id);
        reports++;
        return true;
    }

    // ------------------------------------------------------------------ fences

    /** Keeps {@code id}'s blocks until the output of {@code step} was applied. */
    void fence(String id, long step) {
        fencedUntilStep.put(id, step);
    }

    boolean isFenced(String id) {
        return fencedUntilStep.containsKey(id);
    }

    /**
     * Ends every fence that lasts at most until {@code appliedStep}.
     *
     * @return the ids whose fence ended, in no particular order (empty if none)
     */
    List<String> endFences(long appliedStep) {
        if (fencedUntilStep.isEmpty()) {
            return List.of();
        }
        List<String> ended = new ArrayList<>();
        for (Iterator<Map.Entry<String, Long>> it = fencedUntilStep.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Long> fence = it.next();
            if (fence.getValue() <= appliedStep) {
                it.remove();
                ended.add(fence.getKey());
            }
        }
        return ended;
    }

    // ------------------------------------------------------------------ the whole book

    /** Whether {@code id}'s blocks must be kept: a send or receive is awaited, or a fence holds them. */
    boolean holds(String id) {
        return awaitingSend.contains(id) || awaitingReceive.contains(id) || fencedUntilStep.containsKey(id);
    }

    /** Whether nothing is held for any request. */
    boolean isEmpty() {
        return awaitingSend.isEmpty() && awaitingReceive.isEmpty() && fencedUntilStep.isEmpty();
    }

    /** Finished sends and receives reported so far; grows whenever the connector completes a transfer. */
    long reports() {
        return reports;
    }

    /** Ids whose sends are awaited; a read-only live view. */
    Set<String> awaitedSends() {
        return awaitingSendView;
    }

    /** Ids whose loads are in flight; a read-only live view. */
    Set<String> awaitedReceives() {
        return awaitingReceiveView;
    }

    /** Ids of loads reported finished and not yet promoted; a read-only live view. */
    Set<String> finishedLoads() {
        return Collections.unmodifiableSet(finishedReceiving);
    }

    /** Ids of loads that failed in flight (recompute policy) and were not yet promoted; a read-only live view. */
    Set<String> failedLoads() {
        return Collections.unmodifiableSet(failedReceiving);
    }
}
