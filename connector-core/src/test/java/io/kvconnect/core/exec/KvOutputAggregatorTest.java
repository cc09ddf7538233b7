package io.kvconnect.core.exec;

import io.kvconnect.core.sched.AwaitingTransfers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.core.exec.KvOutputAggregator.AggregatorCounters;
import io.kvconnect.core.logging.RateLimitedLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Folding the workers' outputs of a step: counting finished transfers by rank, and the plain parts. */
class KvOutputAggregatorTest {

    /** The scheduler's side: what it waits for, and it stops waiting once it saw an id finish. */
    private static final class Scheduler implements AwaitingTransfers {
        final Set<String> sends = new HashSet<>();
        final Set<String> receives = new HashSet<>();

        @Override
        public boolean awaitingSend(String requestId) {
            return sends.contains(requestId);
        }

        @Override
        public boolean awaitingReceive(String requestId) {
            return receives.contains(requestId);
        }

        /** What the scheduler does with an aggregated output: it no longer waits for the finished ids. */
        ConnectorOutput seen(ConnectorOutput out) {
            sends.removeAll(out.finishedSending());
            receives.removeAll(out.finishedReceiving());
            return out;
        }
    }

    /** Stats that record the ranks in fold order; aggregating with another type fails like a real plugin would. */
    private record OrderStats(List<Integer> ranks) implements ConnectorStats {
        @Override
        public ConnectorStats aggregate(ConnectorStats other) {
            List<Integer> all = new ArrayList<>(ranks);
            all.addAll(((OrderStats) other).ranks());
            return new OrderStats(all);
        }

        @Override
        public boolean isEmpty() {
            return ranks.isEmpty();
        }

        @Override
        public Map<String, Number> summary() {
            return Map.of("ranks", ranks.size());
        }
    }

    /** Stats of another type, so that {@link OrderStats#aggregate} throws a ClassCastException on it. */
    private record OtherStats() implements ConnectorStats {
        @Override
        public ConnectorStats aggregate(ConnectorStats other) {
            return this;
        }

        @Override
        public boolean isEmpty() {
            return true;
        }

        @Override
        public Map<String, Number> summary() {
            return Map.of();
        }
    }

    /** Metadata that records the ranks in fold order. */
    private record OrderMetadata(List<Integer> ranks) implements WorkerMetadata {
        @Override
        public WorkerMetadata aggregate(WorkerMetadata other) {
            List<Integer> all = new ArrayList<>(ranks);
            all.addAll(((OrderMetadata) other).ranks());
            return new OrderMetadata(all);
        }
    }

    /** Metadata whose aggregate always throws. */
    private record BrokenMetadata() implements WorkerMetadata {
        @Override
        public WorkerMetadata aggregate(WorkerMetadata other) {
            throw new IllegalStateException("plugin bug");
        }
    }

    private final Scheduler scheduler = new Scheduler();

    private KvOutputAggregator aggregator(int workers) {
        return new KvOutputAggregator(workers, OptionalInt.empty(), scheduler);
    }

    private static ConnectorOutput sending(String... ids) {
        return new ConnectorOutput(Set.of(ids), Set.of(), Set.of(), Optional.empty(), List.of(), Optional.empty());
    }

    private static ConnectorOutput receiving(String... ids) {
        return new ConnectorOutput(Set.of(), Set.of(ids), Set.of(), Optional.empty(), List.of(), Optional.empty());
    }

    private static ConnectorOutput invalid(Integer... blocks) {
        return new ConnectorOutput(Set.of(), Set.of(), Set.of(blocks), Optional.empty(), List.of(), Optional.empty());
    }

    private static ConnectorOutput stats(ConnectorStats stats) {
        return ConnectorOutput.EMPTY.withStats(Optional.of(stats));
    }

    private static ConnectorOutput metadata(WorkerMetadata metadata) {
        return ConnectorOutput.EMPTY.withWorkerMetadata(Optional.of(metadata));
    }

    private static ConnectorOutput events(KvEvent... events) {
        return ConnectorOutput.EMPTY.withWorkerEvents(List.of(events));
    }

    /** A list that may hold nulls (List.of may not), one entry per rank. */
    private static List<ConnectorOutput> ranks(ConnectorOutput... perRank) {
        return Arrays.asList(perRank);
    }

    private static ConnectorOutput none() {
        return ConnectorOutput.EMPTY;
    }

    private static KvEvent stored(int hash) {
        return new KvEvent.BlockStored(List.of(new BlockHash(0, 0, 0, hash)), Optional.empty(), 16, 0,
                StorageMedium.CPU);
    }

    // ---- finished sends and receives --------------------------------------------------------------

    @Test
    void twoWorkersCompleteOnlyWhenBothReportedAcrossSteps() {
        scheduler.sends.add("a");
        scheduler.receives.add("b");
        KvOutputAggregator agg = aggregator(2);

        ConnectorOutput step1 = scheduler.seen(agg.aggregate(ranks(sending("a"), receiving("b"))));
        assertEquals(Set.of(), step1.finishedSending());
        assertEquals(Set.of(), step1.finishedReceiving());
        assertEquals(2, agg.pendingCount());

        ConnectorOutput step2 = scheduler.seen(agg.aggregate(ranks(receiving("b"), none())));
        assertEquals(Set.of(), step2.finishedSending());
        assertEquals(Set.of("b"), step2.finishedReceiving());

        ConnectorOutput step3 = scheduler.seen(agg.aggregate(ranks(none(), sending("a"))));
        assertEquals(Set.of("a"), step3.finishedSending());
        assertEquals(Set.of(), step3.finishedReceiving());
        assertEquals(0, agg.pendingCount());
        assertEquals(new AggregatorCounters(0, 0, 0, 0), agg.counters());
    }

    @Test
    void fourWorkersCompleteInTheStepOfTheLastRank() {
        scheduler.sends.addAll(Set.of("a", "b"));
        KvOutputAggregator agg = aggregator(4);

        assertEquals(Set.of(), scheduler.seen(agg.aggregate(ranks(sending("a"), sending("a", "b"), none(), none())))
                .finishedSending());
        assertEquals(Set.of(), scheduler.seen(agg.aggregate(ranks(none(), none(), sending("a", "b"), sending("b"))))
                .finishedSending());
        assertEquals(Set.of("b"), scheduler.seen(agg.aggregate(ranks(sending("b"), none(), none(), none())))
                .finishedSending());
        assertEquals(1, agg.pendingCount());
        assertEquals(Set.of("a"), scheduler.seen(agg.aggregate(ranks(none(), none(), none(), sending("a"))))
                .finishedSending());
        assertEquals(0, agg.pendingCount());
    }

    @Test
    void allRanksInOneStepCompleteAtOnce() {
        scheduler.receives.add("r");
        KvOutputAggregator agg = aggregator(4);

        ConnectorOutput out = agg.aggregate(ranks(receiving("r"), receiving("r"), receiving("r"), receiving("r")));

        assertEquals(Set.of("r"), out.finishedReceiving());
        assertEquals(0, agg.pendingCount());
    }

    @Test
    void smallerExpectedCountCompletesEarlyAndLaterRanksAreLate() {
        scheduler.sends.add("a");
        KvOutputAggregator agg = new KvOutputAggregator(4, OptionalInt.of(2), scheduler);

        // Three ranks in the step that completes it: the third is late although the scheduler has
        // not yet seen the completion.
        ConnectorOutput step1 = scheduler.seen(agg.aggregate(ranks(sending("a"), none(), sending("a"), sending("a"))));
        assertEquals(Set.of("a"), step1.finishedSending());
        assertEquals(0, agg.pendingCount());

        ConnectorOutput step2 = scheduler.seen(agg.aggregate(ranks(none(), sending("a"), none(), none())));
        assertEquals(Set.of(), step2.finishedSending());
        assertEquals(0, agg.pendingCount());
        assertEquals(new AggregatorCounters(0, 2, 0, 0), agg.counters());
    }

    @Test
    void expectedCountOfOneCompletesOnTheFirstReport() {
        scheduler.receives.add("r");
        KvOutputAggregator agg = new KvOutputAggregator(2, OptionalInt.of(1), scheduler);

        assertEquals(Set.of("r"), agg.aggregate(ranks(none(), receiving("r"))).finishedReceiving());
        assertEquals(0, agg.pendingCount());
    }

    @Test
    void eachIdIsEmittedExactlyOnceUnderRandomReporting() {
        Random random = new Random(42);
        int workers = 4;
        KvOutputAggregator agg = aggregator(workers);
        Map<String, Integer> emitted = new HashMap<>();
        // Each id's reporting ranks, still to report, in a random order per id.
        Map<String, List<Integer>> toReport = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            String id = "req-" + i;
            scheduler.sends.add(id);
            List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3));
            Collections.shuffle(order, random);
            toReport.put(id, order);
        }
        int steps = 0;
        while (!toReport.isEmpty()) {
            steps++;
            List<Set<String>> perRank = Stream.<Set<String>>generate(HashSet::new).limit(workers).toList();
            for (var it = toReport.entrySet().iterator(); it.hasNext(); ) {
                var entry = it.next();
                if (random.nextInt(3) == 0) {
                    perRank.get(entry.getValue().removeFirst()).add(entry.getKey());
                }
                if (entry.getValue().isEmpty()) {
                    it.remove();
                }
            }
            List<ConnectorOutput> outputs = perRank.stream().map(s -> sending(s.toArray(String[]::new))).toList();
            for (String id : scheduler.seen(agg.aggregate(outputs)).finishedSending()) {
                emitted.merge(id, 1, Integer::sum);
            }
        }
        assertTrue(steps > 4);
        assertEquals(200, emitted.size());
        assertTrue(emitted.values().stream().allMatch(n -> n == 1), "emitted more than once: " + emitted);
        assertEquals(0, agg.pendingCount());
        assertEquals(new AggregatorCounters(0, 0, 0, 0), agg.counters());
    }

    @Test
    void duplicateFromTheSameRankDoesNotCompleteEarly() {
        scheduler.sends.add("a");
        KvOutputAggregator agg = aggregator(2);

        assertEquals(Set.of(), scheduler.seen(agg.aggregate(ranks(sending("a"), none()))).finishedSending());
        assertEquals(Set.of(), scheduler.seen(agg.aggregate(ranks(sending("a"), none()))).finishedSending());
        assertEquals(1, agg.counters().duplicates());
        assertEquals(1, agg.pendingCount());

        assertEquals(Set.of("a"), scheduler.seen(agg.aggregate(ranks(none(), sending("a")))).finishedSending());
        assertEquals(0, agg.pendingCount());
    }

    @Test
    void lateReportAfterCompletionIsIgnoredAndCountedAsLate() {
        scheduler.receives.add("r");
        KvOutputAggregator agg = aggregator(2);
        assertEquals(Set.of("r"),
                scheduler.seen(agg.aggregate(ranks(receiving("r"), receiving("r")))).finishedReceiving());

        ConnectorOutput again = scheduler.seen(agg.aggregate(ranks(receiving("r"), none())));

        assertEquals(Set.of(), again.finishedReceiving());
        assertEquals(new AggregatorCounters(0, 1, 0, 0), agg.counters());
        assertEquals(0, agg.pendingCount(), "a late report must not start a countdown");
    }

    @Test
    void lateMemoryIsBoundedSoOldIdsBecomeUnknown() {
        KvOutputAggregator agg = new KvOutputAggregator(1, OptionalInt.empty(), scheduler);
        for (int i = 0; i <= KvOutputAggregator.RECENT_COMPLETED_CAPACITY; i++) {
            scheduler.sends.add("s" + i);
            scheduler.seen(agg.aggregate(ranks(sending("s" + i))));
        }

        agg.aggregate(ranks(sending("s0")));
        agg.aggregate(ranks(sending("s1")));

        assertEquals(new AggregatorCounters(0, 1, 1, 0), agg.counters());
    }

    @Test
    void unknownIdIsIgnoredInBothDirections() {
        KvOutputAggregator agg = aggregator(2);

        ConnectorOutput out = agg.aggregate(ranks(sending("x"), receiving("y")));

        assertSame(ConnectorOutput.EMPTY, out);
        assertEquals(new AggregatorCounters(0, 0, 2, 0), agg.counters());
        assertEquals(0, agg.pendingCount());
    }

    @Test
    void directionsAreCountedSeparately() {
        scheduler.sends.add("a");
        KvOutputAggregator agg = aggregator(1);

        // Awaited as a send only: a receive report for it is unknown and does not touch the send.
        ConnectorOutput out = agg.aggregate(ranks(receiving("a")));

        assertEquals(Set.of(), out.finishedReceiving());
        assertEquals(1, agg.counters().unknown());
        assertEquals(Set.of("a"), agg.aggregate(ranks(sending("a"))).finishedSending());
    }

    @Test
    void forgetDropsPartialCountsInBothDirections() {
        scheduler.sends.add("a");
        scheduler.receives.add("a");
        KvOutputAggregator agg = aggregator(2);
        agg.aggregate(ranks(sending("a"), receiving("a")));
        assertEquals(2, agg.pendingCount());

        agg.forget("a");
        agg.forget("never-seen");

        assertEquals(0, agg.pendingCount());
        // Still awaited (say it was re-queued): counting starts again from zero.
        assertEquals(Set.of(), agg.aggregate(ranks(none(), sending("a"))).finishedSending());
        assertEquals(Set.of("a"), agg.aggregate(ranks(sending("a"), none())).finishedSending());
    }

    @Test
    void partialCountIsDroppedWhenTheSchedulerNoLongerWaits() {
        scheduler.sends.add("a");
        KvOutputAggregator agg = aggregator(2);
        agg.aggregate(ranks(sending("a"), none()));
        scheduler.sends.remove("a");

        agg.aggregate(ranks(none(), sending("a")));

        assertEquals(0, agg.pendingCount());
        assertEquals(1, agg.counters().unknown());
    }

    // ---- log volume -------------------------------------------------------------------------------

    /** Lines the aggregator wrote through a limiter of 10 lines per kind and minute, on a clock the test moves. */
    private final List<String> logLines = new ArrayList<>();
    private long nanos;
    private final RateLimitedLog limiter = new RateLimitedLog((level, line, cause) -> logLines.add(line), 10,
            Duration.ofMinutes(1), () -> nanos);

    private static Set<String> ids(String prefix, int n) {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < n; i++) {
            ids.add(prefix + i);
        }
        return ids;
    }

    @Test
    void aHundredThousandUnknownIdsCostABoundedNumberOfLinesAndAreAllCounted() {
        KvOutputAggregator agg = new KvOutputAggregator(2, OptionalInt.empty(), scheduler, limiter);
        ConnectorOutput flood = new ConnectorOutput(ids("s", 100_000), ids("r", 100_000), Set.of(), Optional.empty(),
                List.of(), Optional.empty());

        agg.aggregate(ranks(flood, none()));

        assertEquals(200_000, agg.counters().unknown(), "every unknown report is counted");
        assertEquals(10, logLines.size(), "one kind, ten lines: " + logLines.size());
        assertEquals(0, agg.pendingCount());

        nanos += Duration.ofMinutes(1).toNanos();
        agg.aggregate(ranks(none(), none()));

        assertEquals(11, logLines.size());
        assertEquals("... and 199990 more like this suppressed in the last 60 s (kind finished-unknown)",
                logLines.get(10));
    }

    @Test
    void repeatedDuplicatesAndFailingAggregatesAreLimitedPerKind() {
        scheduler.sends.addAll(ids("a", 1000));
        KvOutputAggregator agg = new KvOutputAggregator(2, OptionalInt.empty(), scheduler, limiter);
        ConnectorOutput once = new ConnectorOutput(ids("a", 1000), Set.of(), Set.of(), Optional.empty(), List.of(),
                Optional.of(new BrokenMetadata()));

        for (int step = 0; step < 50; step++) {
            agg.aggregate(ranks(once, metadata(new BrokenMetadata())));
        }

        assertEquals(new AggregatorCounters(49 * 1000, 0, 0, 50), agg.counters());
        assertEquals(20, logLines.size(), "ten duplicate lines and ten aggregate failures: " + logLines);
        assertEquals(10, logLines.stream().filter(l -> l.startsWith("Ignoring duplicate finished send")).count());
        assertEquals(10, logLines.stream().filter(l -> l.startsWith("Connector worker metadata aggregate failed"))
                .count());
    }

    // ---- the plain parts ---------------------------------------------------------------------------

    @Test
    void invalidBlockIdsAreTheUnionOfAllRanks() {
        KvOutputAggregator agg = aggregator(3);

        ConnectorOutput out = agg.aggregate(ranks(invalid(1, 2), invalid(), invalid(2, 7)));

        assertEquals(Set.of(1, 2, 7), out.invalidBlockIds());
    }

    @Test
    void statsAreFoldedInRankOrder() {
        KvOutputAggregator agg = aggregator(4);

        ConnectorOutput out = agg.aggregate(ranks(none(), stats(new OrderStats(List.of(1))),
                stats(new OrderStats(List.of(2))), stats(new OrderStats(List.of(3)))));

        assertEquals(Optional.of(new OrderStats(List.of(1, 2, 3))), out.stats());
    }

    @Test
    void throwingStatsAggregateIsContainedAndTheAccumulatorKept() {
        KvOutputAggregator agg = aggregator(3);

        ConnectorOutput out = agg.aggregate(ranks(stats(new OrderStats(List.of(0))), stats(new OtherStats()),
                stats(new OrderStats(List.of(2)))));

        assertEquals(Optional.of(new OrderStats(List.of(0, 2))), out.stats());
        assertEquals(new AggregatorCounters(0, 0, 0, 1), agg.counters());
    }

    @Test
    void metadataIsFoldedInRankOrderAndFailuresContained() {
        KvOutputAggregator agg = aggregator(3);

        ConnectorOutput out = agg.aggregate(ranks(metadata(new OrderMetadata(List.of(0))), none(),
                metadata(new OrderMetadata(List.of(2)))));
        assertEquals(Optional.of(new OrderMetadata(List.of(0, 2))), out.workerMetadata());

        ConnectorOutput broken = agg.aggregate(ranks(metadata(new BrokenMetadata()),
                metadata(new OrderMetadata(List.of(1))), metadata(new OrderMetadata(List.of(2)))));
        assertEquals(Optional.of(new BrokenMetadata()), broken.workerMetadata());
        assertEquals(2, agg.counters().aggregateFailures());
    }

    @Test
    void eventsAreDeduplicatedAcrossRanksInFirstAppearanceOrder() {
        KvOutputAggregator agg = aggregator(3);
        KvEvent cleared = new KvEvent.AllBlocksCleared(StorageMedium.CPU);

        ConnectorOutput out = agg.aggregate(ranks(events(stored(1), stored(2)), events(stored(2), stored(3)),
                events(stored(1), cleared, stored(3))));

        assertEquals(List.of(stored(1), stored(2), stored(3), cleared), out.workerEvents());
    }

    @Test
    void nullEntryForAFailedWorkerContributesNothing() {
        scheduler.sends.add("a");
        KvOutputAggregator agg = aggregator(2);

        ConnectorOutput out = agg.aggregate(ranks(null, sending("a")));
        assertEquals(Set.of(), out.finishedSending());
        assertEquals(1, agg.pendingCount());

        assertSame(ConnectorOutput.EMPTY, agg.aggregate(ranks(null, null)));
        assertEquals(Set.of("a"), agg.aggregate(ranks(sending("a"), null)).finishedSending());
    }

    @Test
    void nothingReportedGivesEmpty() {
        assertSame(ConnectorOutput.EMPTY, aggregator(2).aggregate(ranks(none(), none())));
    }

    // ---- refusals ---------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void wrongListSizeIsRejected(int size) {
        KvOutputAggregator agg = aggregator(2);
        List<ConnectorOutput> outputs = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            outputs.add(none());
        }

        assertThrows(IllegalArgumentException.class, () -> agg.aggregate(outputs));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 5})
    void badExpectedCountIsRejected(int expected) {
        assertThrows(IllegalArgumentException.class,
                () -> new KvOutputAggregator(4, OptionalInt.of(expected), scheduler));
    }

    @Test
    void noWorkersIsRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> new KvOutputAggregator(0, OptionalInt.empty(), scheduler));
    }
}
