package io.kvconnect.multi;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.testkit.doubles.FakeBlockPool;
import io.kvconnect.testkit.doubles.FakeRequest;
import io.kvconnect.testkit.doubles.FakeSchedulerOutput;
import io.kvconnect.testkit.doubles.FakeSchedulerState;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A composite over fake children, with one scheduler side and {@code workers} worker sides, driven
 * in the engine's order and folded by the engine's rules in miniature: a finished id counts once
 * per distinct rank, across steps, until the composite's expected count is reached; load errors
 * are unioned; stats and worker metadata are folded left to right in rank order; events are
 * concatenated. Hook failures are recorded, not thrown, as the engine contains them.
 */
final class Harness {
    /** Usable blocks of the engine's pool. */
    static final int BLOCKS = 64;

    final int workers;
    final List<String> keys = new ArrayList<>();
    final List<FakeScheduler> children = new ArrayList<>();
    /** [rank][child]. */
    final List<List<FakeWorker>> workerChildren = new ArrayList<>();

    final MultiScheduler scheduler;
    final List<MultiWorker> workerSides = new ArrayList<>();
    /** The engine's pool view of the composite: one reference per block at most, block 7 cached. */
    final FakeBlockPool pool = new FakeBlockPool(BLOCKS).cache(7, new BlockHash(7, 7, 7, 7));

    final FakeSchedulerState state = new FakeSchedulerState(4, pool);
    final List<RuntimeException> workerFailures = new ArrayList<>();
    final List<RuntimeException> schedulerFailures = new ArrayList<>();
    final Set<String> finishedSinceLastStep = new LinkedHashSet<>();
    final List<ConnectorOutput> outputs = new ArrayList<>();
    final List<List<WorkerStepReport>> perRankOutputs = new ArrayList<>();
    private final Map<String, BitSet> sendCounts = new HashMap<>();
    private final Map<String, BitSet> receiveCounts = new HashMap<>();
    private long step;
    ConnectorMetadata lastMetadata;

    Harness(int workers, String... names) {
        this.workers = workers;
        for (int i = 0; i < names.length; i++) {
            keys.add(ChildKeys.of(i, names[i]));
            children.add(new FakeScheduler(names[i]));
        }
        for (int rank = 0; rank < workers; rank++) {
            List<FakeWorker> mine = new ArrayList<>();
            for (String name : names) {
                mine.add(new FakeWorker(name + "@" + rank));
            }
            workerChildren.add(mine);
            workerSides.add(new MultiWorker(keys, List.copyOf(mine), rank));
        }
        scheduler = new MultiScheduler(keys, List.copyOf(children), workers, 4);
        scheduler.bindSchedulerState(state);
    }

    /** Reads the composite's expected count, as the engine does once after binding. */
    int expected() {
        return scheduler.expectedFinishedCount().orElse(workers);
    }

    FakeScheduler child(int i) {
        return children.get(i);
    }

    FakeWorker worker(int rank, int child) {
        return workerChildren.get(rank).get(child);
    }

    /** The engine's {@code finish}: the composite's answer, and the id for the next step's workers. */
    FinishResult finish(String requestId) {
        finishedSinceLastStep.add(requestId);
        return scheduler.requestFinished(request(requestId), BlockIds.of(1, 2));
    }

    /** One step with nothing scheduled: build, run every worker, aggregate, update. */
    ConnectorOutput step() {
        return step(new FakeSchedulerOutput(++step, List.of(), Set.of(), Set.copyOf(finishedSinceLastStep)));
    }

    /** A waiting request of 64 tokens (ids 0 to 63), a made-up hash per block of 4, at most 8 output tokens. */
    static FakeRequest request(String requestId) {
        return request(requestId, 64, TransferParams.empty());
    }

    /** A waiting request of {@code tokens} tokens with {@code params}, as {@link #request(String)}. */
    static FakeRequest request(String requestId, int tokens, TransferParams params) {
        return FakeRequest.builder(requestId)
                .countingTokens(tokens)
                .syntheticBlockHashes(4)
                .maxTokens(8)
                .transferParams(params)
                .build();
    }

    ConnectorOutput step(SchedulerOutputView view) {
        finishedSinceLastStep.clear();
        int count = expected();
        ConnectorMetadata meta = scheduler.buildConnectorMetadata(view);
        lastMetadata = meta;
        List<WorkerStepReport> perRank = new ArrayList<>();
        for (MultiWorker w : workerSides) {
            perRank.add(runWorker(w, meta, view.finishedRequestIds()));
        }
        perRankOutputs.add(perRank);
        ConnectorOutput out = aggregate(perRank, count);
        outputs.add(out);
        try {
            scheduler.updateConnectorOutput(out);
        } catch (RuntimeException e) {
            schedulerFailures.add(e);
        }
        return out;
    }

    /** One rank's step; a failure named in its report joins {@link #workerFailures}, as the engine counts it. */
    private WorkerStepReport runWorker(MultiWorker w, ConnectorMetadata meta, Set<String> finished) {
        hook(() -> w.handlePreemptions(meta));
        hook(() -> w.bindConnectorMetadata(meta));
        hook(w::startLoadKv);
        hook(() -> w.waitForLayerLoad(0));
        hook(() -> w.saveKvLayer(0));
        hook(w::waitForSave);
        WorkerStepReport report = call(() -> w.reportStep(finished), WorkerStepReport.EMPTY);
        report.failure().ifPresent(e -> workerFailures.add((RuntimeException) e));
        hook(w::clearConnectorMetadata);
        return report;
    }

    private void hook(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            workerFailures.add(e);
        }
    }

    private <T> T call(Supplier<T> s, T fallback) {
        try {
            return s.get();
        } catch (RuntimeException e) {
            workerFailures.add(e);
            return fallback;
        }
    }

    private ConnectorOutput aggregate(List<WorkerStepReport> perRank, int count) {
        Set<String> sending = new LinkedHashSet<>();
        Set<String> receiving = new LinkedHashSet<>();
        Set<Integer> invalid = new LinkedHashSet<>();
        List<KvEvent> events = new ArrayList<>();
        ConnectorStats stats = null;
        WorkerMetadata md = null;
        for (int rank = 0; rank < perRank.size(); rank++) {
            WorkerStepReport o = perRank.get(rank);
            countDown(o.finishedSending(), rank, sendCounts, sending, count);
            countDown(o.finishedReceiving(), rank, receiveCounts, receiving, count);
            invalid.addAll(o.invalidBlockIds());
            events.addAll(o.events());
            if (o.stats().isPresent()) {
                stats = stats == null
                        ? o.stats().get()
                        : stats.aggregate(o.stats().get());
            }
            if (o.workerMetadata().isPresent()) {
                md = md == null
                        ? o.workerMetadata().get()
                        : md.aggregate(o.workerMetadata().get());
            }
        }
        return new ConnectorOutput(
                sending, receiving, invalid, Optional.ofNullable(stats), events, Optional.ofNullable(md));
    }

    private static void countDown(Set<String> ids, int rank, Map<String, BitSet> counts, Set<String> done, int count) {
        for (String id : ids) {
            BitSet ranks = counts.computeIfAbsent(id, k -> new BitSet());
            ranks.set(rank);
            if (ranks.cardinality() == count) {
                counts.remove(id);
                done.add(id);
            }
        }
    }

    /** The metadata of the last step, as the composite's own type. */
    MultiMetadata lastMulti() {
        return (MultiMetadata) lastMetadata;
    }
}
