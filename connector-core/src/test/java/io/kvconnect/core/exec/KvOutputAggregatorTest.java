package io.kvconnect.core.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.logging.RateLimitedLog;
import io.kvconnect.core.sched.FinishedTransfers;
import io.kvconnect.core.sched.WorkerReports;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Folding the workers' outputs of a step into the reports the scheduler applies: finished transfers
 * passed on by rank (the scheduler counts them), the other parts folded. Counting finished
 * transfers is tested with the scheduler's {@code TransferBook}.
 */
class KvOutputAggregatorTest {

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

    private KvOutputAggregator aggregator(int workers) {
        return new KvOutputAggregator(workers);
    }

    private static WorkerStepReport sending(String... ids) {
        return WorkerStepReport.builder().addFinishedSending(Set.of(ids)).build();
    }

    private static WorkerStepReport receiving(String... ids) {
        return WorkerStepReport.builder().addFinishedReceiving(Set.of(ids)).build();
    }

    private static WorkerStepReport invalid(Integer... blocks) {
        return WorkerStepReport.builder().addInvalidBlockIds(Set.of(blocks)).build();
    }

    private static WorkerStepReport stats(ConnectorStats stats) {
        return WorkerStepReport.builder().stats(Optional.of(stats)).build();
    }

    private static WorkerStepReport metadata(WorkerMetadata metadata) {
        return WorkerStepReport.builder().workerMetadata(Optional.of(metadata)).build();
    }

    private static WorkerStepReport events(KvEvent... events) {
        return WorkerStepReport.builder().addEvents(List.of(events)).build();
    }

    /** A list that may hold nulls (List.of may not), one entry per rank. */
    private static List<WorkerStepReport> ranks(WorkerStepReport... perRank) {
        return Arrays.asList(perRank);
    }

    private static WorkerStepReport none() {
        return WorkerStepReport.EMPTY;
    }

    private static KvEvent stored(int hash) {
        return new KvEvent.BlockStored(
                List.of(new BlockHash(0, 0, 0, hash)), Optional.empty(), 16, 0, StorageMedium.CPU);
    }

    // ---- finished sends and receives, passed on by rank ------------------------------------------

    @Test
    void finishedTransfersArePassedOnByRankUncounted() {
        KvOutputAggregator agg = aggregator(3);

        WorkerReports out = agg.aggregate(ranks(sending("a"), null, receiving("a", "b")));

        assertEquals(
                List.of(
                        new FinishedTransfers(Set.of("a"), Set.of()),
                        FinishedTransfers.NONE,
                        new FinishedTransfers(Set.of(), Set.of("a", "b"))),
                out.finishedByRank());
        assertTrue(!out.isNone(), "a step with connector outputs is not NONE");
    }

    @Test
    void repeatedAndUnknownReportsArePassedOnAsReported() {
        KvOutputAggregator agg = aggregator(2);

        // Nobody is asked whether the ids are awaited: the same id from both ranks, twice over.
        WorkerReports first = agg.aggregate(ranks(sending("x"), sending("x")));
        WorkerReports second = agg.aggregate(ranks(sending("x"), none()));

        assertEquals(
                2,
                first.finishedByRank().stream()
                        .filter(f -> f.sending().contains("x"))
                        .count());
        assertEquals(Set.of("x"), second.finishedByRank().getFirst().sending());
        assertEquals(0, agg.aggregateFailures());
    }

    // ---- log volume -------------------------------------------------------------------------------

    /** Lines the aggregator wrote through a limiter of 10 lines per kind and minute, on a clock the test moves. */
    private final List<String> logLines = new ArrayList<>();

    private long nanos;
    private final RateLimitedLog limiter =
            new RateLimitedLog((level, line, cause) -> logLines.add(line), 10, Duration.ofMinutes(1), () -> nanos);

    @Test
    void repeatedFailingAggregatesAreLimitedAndAllCounted() {
        KvOutputAggregator agg = new KvOutputAggregator(2, limiter);

        for (int step = 0; step < 50; step++) {
            agg.aggregate(ranks(metadata(new BrokenMetadata()), metadata(new BrokenMetadata())));
        }

        assertEquals(50, agg.aggregateFailures());
        assertEquals(10, logLines.size(), "ten aggregate failures: " + logLines);
        assertTrue(
                logLines.stream().allMatch(l -> l.startsWith("Connector worker metadata aggregate failed")),
                logLines.toString());

        nanos += Duration.ofMinutes(1).toNanos();
        agg.aggregate(ranks(none(), none()));

        assertEquals(11, logLines.size());
        assertEquals("... and 40 more like this suppressed in the last 60 s (kind aggregate-failed)", logLines.get(10));
    }

    // ---- the plain parts ---------------------------------------------------------------------------

    @Test
    void invalidBlockIdsAreTheUnionOfAllRanks() {
        KvOutputAggregator agg = aggregator(3);

        WorkerReports out = agg.aggregate(ranks(invalid(1, 2), invalid(), invalid(2, 7)));

        assertEquals(Set.of(1, 2, 7), out.invalidBlockIds());
    }

    @Test
    void statsAreFoldedInRankOrder() {
        KvOutputAggregator agg = aggregator(4);

        WorkerReports out = agg.aggregate(ranks(
                none(),
                stats(new OrderStats(List.of(1))),
                stats(new OrderStats(List.of(2))),
                stats(new OrderStats(List.of(3)))));

        assertEquals(Optional.of(new OrderStats(List.of(1, 2, 3))), out.stats());
    }

    @Test
    void throwingStatsAggregateIsContainedAndTheAccumulatorKept() {
        KvOutputAggregator agg = aggregator(3);

        WorkerReports out = agg.aggregate(
                ranks(stats(new OrderStats(List.of(0))), stats(new OtherStats()), stats(new OrderStats(List.of(2)))));

        assertEquals(Optional.of(new OrderStats(List.of(0, 2))), out.stats());
        assertEquals(1, agg.aggregateFailures());
    }

    @Test
    void metadataIsFoldedInRankOrderAndFailuresContained() {
        KvOutputAggregator agg = aggregator(3);

        WorkerReports out = agg.aggregate(
                ranks(metadata(new OrderMetadata(List.of(0))), none(), metadata(new OrderMetadata(List.of(2)))));
        assertEquals(Optional.of(new OrderMetadata(List.of(0, 2))), out.workerMetadata());

        WorkerReports broken = agg.aggregate(ranks(
                metadata(new BrokenMetadata()),
                metadata(new OrderMetadata(List.of(1))),
                metadata(new OrderMetadata(List.of(2)))));
        assertEquals(Optional.of(new BrokenMetadata()), broken.workerMetadata());
        assertEquals(2, agg.aggregateFailures());
    }

    @Test
    void eventsAreDeduplicatedAcrossRanksInFirstAppearanceOrder() {
        KvOutputAggregator agg = aggregator(3);
        KvEvent cleared = new KvEvent.AllBlocksCleared(StorageMedium.CPU);

        WorkerReports out = agg.aggregate(ranks(
                events(stored(1), stored(2)), events(stored(2), stored(3)), events(stored(1), cleared, stored(3))));

        assertEquals(List.of(stored(1), stored(2), stored(3), cleared), out.events());
    }

    @Test
    void nullEntryForAFailedWorkerContributesNothing() {
        KvOutputAggregator agg = aggregator(2);

        WorkerReports out = agg.aggregate(ranks(null, invalid(3)));

        assertEquals(List.of(FinishedTransfers.NONE, FinishedTransfers.NONE), out.finishedByRank());
        assertEquals(Set.of(3), out.invalidBlockIds());
    }

    @Test
    void nothingReportedGivesEmptyPartsWithOneEntryPerRank() {
        WorkerReports out = aggregator(2).aggregate(ranks(none(), null));

        assertEquals(
                new WorkerReports(
                        List.of(FinishedTransfers.NONE, FinishedTransfers.NONE),
                        Set.of(),
                        Optional.empty(),
                        List.of(),
                        Optional.empty()),
                out);
    }

    // ---- refusals ---------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void wrongListSizeIsRejected(int size) {
        KvOutputAggregator agg = aggregator(2);
        List<WorkerStepReport> outputs = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            outputs.add(none());
        }

        assertThrows(IllegalArgumentException.class, () -> agg.aggregate(outputs));
    }

    @Test
    void noWorkersIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new KvOutputAggregator(0));
    }
}
