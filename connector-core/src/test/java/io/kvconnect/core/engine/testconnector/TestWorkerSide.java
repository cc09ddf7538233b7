package io.kvconnect.core.engine.testconnector;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.FailMode;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.ThrowSpec;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The worker side of {@link HostCacheTestConnector} for one rank. Worker thread only (copies run
 * on the engine's copy stream and are awaited here).
 *
 * <p>Saves are awaited within the step ({@code waitForSave}, and {@code startLoadKv} for blocks of
 * finished requests, before anything can reuse them), so no copy outlives the blocks it reads.
 * Asynchronous loads start in {@code startLoadKv} and are reported received a configured number
 * of steps later, or later still while a copy of theirs has not ended (a stalled copy stream);
 * a failed copy of any load is reported as load errors for its blocks. A delayed free is reported sent a configured number of steps after the request
 * first appears in the finished ids, and its blocks are snapshotted at the start and compared at
 * the end (they must not change while held).
 */
final class TestWorkerSide implements WorkerConnector {
    /** The longest {@code reportStep} waits for a due asynchronous load's copies to end. */
    private static final Duration SETTLE_GRACE = Duration.ofMillis(100);

    private final HostCacheTestConnector owner;
    private final TestConnectorConfig config;
    private final int rank;
    private final String side;
    private TestStore.RankStore mine;
    private BlockCopyService copies;
    private HostBlockBuffer buffer;
    private Metadata.Step bound = Metadata.Step.EMPTY;
    private long calls;

    private final Map<String, AsyncLoad> asyncLoads = new LinkedHashMap<>();
    private final List<SyncLoad> syncLoads = new ArrayList<>();
    private final List<DueErrors> errorQueue = new ArrayList<>();
    private final Set<Integer> errorsNow = new LinkedHashSet<>();
    private final Set<String> seenFinished = new HashSet<>();
    private final Map<String, Metadata.Send> sendsNotSeen = new LinkedHashMap<>();
    private final Map<String, HeldSend> sends = new LinkedHashMap<>();
    private final Map<String, Integer> repeatSending = new LinkedHashMap<>();
    private final Map<String, Integer> repeatReceiving = new LinkedHashMap<>();
    private final Map<BlockHash, Integer> savedThisStep = new HashMap<>();
    /**
     * Requests whose synchronous load failed: what they computed from it read wrong KV, so none of
     * it is saved or compared until they finish (a connector must fence saves after a failed
     * load; this one does not know when the engine recomputed, so it fences for the rest of the
     * request's life).
     */
    private final Set<String> fencedAfterFailedLoad = new HashSet<>();

    private final ArrayDeque<Integer> freeScratch = new ArrayDeque<>();
    private final Map<ThrowSpec, Integer> throwsLeft = new HashMap<>();
    private int unknownLeft;
    private long verifiedBlocks;

    private record AsyncLoad(
            List<CopyTicket> tickets, Set<Integer> errors, long due, List<Integer> blocks, long generation) {}

    private record DueErrors(long due, Set<Integer> blocks) {}

    /** A {@link LoadMode#SYNC_LAYER} load started in {@code startLoadKv}, awaited in {@code waitForLayerLoad}. */
    private record SyncLoad(String requestId, List<CopyTicket> tickets, List<Integer> blocks) {}

    private record HeldSend(Metadata.Send send, long due, int[] snapshot) {}

    TestWorkerSide(HostCacheTestConnector owner, int rank) {
        this.owner = owner;
        this.config = owner.config();
        this.rank = rank;
        this.side = "W" + rank;
        this.unknownLeft = config.unknownReports();
        for (ThrowSpec t : config.throwSpecs()) {
            if (t.workerSide()) {
                throwsLeft.put(t, t.times());
            }
        }
    }

    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copyService) {
        log("registerKvCaches", null, layout.numBlocks());
        mine = owner.store().register(rank, copyService);
        copies = mine.copies();
        buffer = mine.buffer();
        for (int i = 0; i < owner.store().scratchSlots(); i++) {
            freeScratch.add(owner.store().firstScratchSlot() + i);
        }
    }

    @Override
    public void handlePreemptions(ConnectorMetadata metadata) {
        Metadata.Step m = metadata instanceof Metadata.Step s ? s : Metadata.Step.EMPTY;
        if (shouldThrow("handlePreemptions", id -> m.loads(id, false))) {
            throw new InjectedFailure("handlePreemptions", null);
        }
        // Nothing of ours outlives a step on a running request's blocks: saves are awaited in the
        // step, and a request waiting for an asynchronous load is never running, so never preempted.
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        bound = metadata instanceof Metadata.Step s ? s : Metadata.Step.EMPTY;
        ThrowSpec thrown = thrownSpec("bindConnectorMetadata", id -> bound.loads(id, false));
        if (thrown != null) {
            if (thrown.losesOrders()) {
                bound = Metadata.Step.EMPTY;
            }
            throw new InjectedFailure("bindConnectorMetadata", null);
        }
    }

    @Override
    public void startLoadKv() {
        Metadata.Step m = bound;
        for (Metadata.Load l : m.loads()) {
            log("startLoadKv", l.requestId(), l.gpuBlocks().size());
        }
        if (shouldThrow("startLoadKv", id -> m.loads(id, false))) {
            // Consistent state: synchronous loads did not happen (the engine fails their requests);
            // asynchronous ones are reported received on time, every block failed.
            for (Metadata.Load l : m.loads()) {
                if (l.async()) {
                    asyncLoads.put(
                            key(l),
                            new AsyncLoad(
                                    List.of(),
                                    new LinkedHashSet<>(l.gpuBlocks()),
                                    asyncDue(),
                                    l.gpuBlocks(),
                                    l.generation()));
                }
            }
            throw new InjectedFailure("startLoadKv", null);
        }
        saveNow(m.earlySaves());
        if (!m.loads().isEmpty()) {
            config.loadGate().accept(m.step());
        }
        for (Metadata.Load l : m.loads()) {
            int n = l.gpuBlocks().size();
            List<Integer> okGpu = new ArrayList<>();
            List<Integer> okSlots = new ArrayList<>();
            Set<Integer> errors = new LinkedHashSet<>();
            List<CopyTicket> tickets = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int gpu = l.gpuBlocks().get(i);
                if (!l.fail().get(i)) {
                    okGpu.add(gpu);
                    okSlots.add(l.slots().get(i));
                    continue;
                }
                log("loadFails", l.requestId(), gpu);
                if (config.failMode() != FailMode.SKIP_COPY) {
                    tickets.add(
                            copies.copyFromHost(buffer, new int[] {owner.store().garbageSlot()}, new int[] {gpu}));
                }
                if (config.failMode() != FailMode.SILENT_GARBAGE) {
                    errors.add(gpu);
                }
            }
            if (!okGpu.isEmpty()) {
                tickets.add(copies.copyFromHost(buffer, ints(okSlots), ints(okGpu)));
            }
            if (l.async()) {
                asyncLoads.put(key(l), new AsyncLoad(tickets, errors, asyncDue(), okGpu, l.generation()));
            } else {
                if (config.loadMode() == LoadMode.SYNC_LAYER) {
                    syncLoads.add(new SyncLoad(l.requestId(), tickets, okGpu));
                } else if (!awaitAll(tickets)) {
                    errors.addAll(okGpu);
                }
                if (!errors.isEmpty()) {
                    fencedAfterFailedLoad.add(l.requestId());
                }
                if (!errors.isEmpty()) {
                    errorQueue.add(new DueErrors(calls + 1 + config.errorReportDelaySteps(), errors));
                }
            }
        }
    }

    @Override
    public void waitForLayerLoad(int layer) {
        if (layer != 0) {
            return;
        }
        boolean fail = shouldThrow("waitForLayerLoad", id -> bound.loads(id, true));
        awaitSyncLoads();
        if (fail) {
            throw new InjectedFailure("waitForLayerLoad", null);
        }
    }

    @Override
    public void saveKvLayer(int layer) {
        if (layer == 0 && shouldThrow("saveKvLayer", id -> true)) {
            throw new InjectedFailure("saveKvLayer", null);
        }
    }

    @Override
    public void waitForSave() {
        if (!syncLoads.isEmpty()) {
            owner.problem(side + ": synchronous loads not awaited before the end of the forward pass");
            awaitSyncLoads();
        }
        if (shouldThrow("waitForSave", id -> true)) {
            throw new InjectedFailure("waitForSave", null);
        }
        List<Metadata.Save> saves = new ArrayList<>();
        for (Metadata.Save s : bound.saves()) {
            if (fencedAfterFailedLoad.contains(s.requestId())) {
                log("saveFenced", s.requestId(), s.gpuBlock());
            } else {
                saves.add(s);
            }
        }
        saveNow(saves);
    }

    /**
     * The step's report. A test injects two kinds of failure here: {@code reportStep} throws
     * (concerning a request: when the step's orders load it), and {@code reportStepFailure} returns
     * the report with a contained failure named in it.
     */
    @Override
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        if (shouldThrow("reportStep", id -> bound.loads(id, false))) {
            savedThisStep.clear();
            throw new InjectedFailure("reportStep", null);
        }
        ThrowSpec contained = thrownSpec("reportStepFailure", id -> bound.loads(id, false));
        calls++;
        seenFinished.addAll(finishedRequestIds);
        fencedAfterFailedLoad.removeAll(finishedRequestIds);
        Set<String> sending = new LinkedHashSet<>();
        Set<String> receiving = new LinkedHashSet<>();
        for (Metadata.Send s : bound.sends()) {
            sendsNotSeen.put(s.requestId(), s);
        }
        receiving.addAll(bound.cancelledLoads());
        // Contract: a send is reported only for an id that arrived in the finished ids.
        for (Iterator<Metadata.Send> it = sendsNotSeen.values().iterator(); it.hasNext(); ) {
            Metadata.Send s = it.next();
            if (seenFinished.contains(s.requestId())) {
                it.remove();
                sends.put(
                        s.requestId(),
                        new HeldSend(
                                s,
                                calls + config.delayFreeSteps() + (long) rank * config.rankSkewSteps(),
                                snapshot(s.gpuBlocks())));
            }
        }
        for (Iterator<HeldSend> it = sends.values().iterator(); it.hasNext(); ) {
            HeldSend h = it.next();
            if (h.due() <= calls) {
                it.remove();
                compareSnapshot(h);
                sending.add(h.send().requestId());
            }
        }
        for (Iterator<Map.Entry<String, AsyncLoad>> it = asyncLoads.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, AsyncLoad> e = it.next();
            AsyncLoad load = e.getValue();
            if (load.due() <= calls) {
                String id = e.getKey().substring(0, e.getKey().lastIndexOf('#'));
                if (!settled(load.tickets())) {
                    // A copy is still running (stalled): the load is not finished, report it later.
                    log("loadStalled", id, 0);
                    continue;
                }
                it.remove();
                if (!awaitAll(load.tickets())) {
                    errorsNow.addAll(load.blocks());
                }
                errorsNow.addAll(load.errors());
                receiving.add(id);
                if (config.reportingRanks().isEmpty() || config.reportingRanks().contains(rank)) {
                    owner.store().loadReported(id, load.generation(), rank);
                }
            }
        }
        if (!config.reportingRanks().isEmpty() && !config.reportingRanks().contains(rank)) {
            sending.clear();
            receiving.clear();
        }
        Set<String> repeatS = repeat(repeatSending);
        Set<String> repeatR = repeat(repeatReceiving);
        if (config.duplicateReports() > 0) {
            for (String id : sending) {
                repeatSending.put(id, config.duplicateReports());
            }
            for (String id : receiving) {
                repeatReceiving.put(id, config.duplicateReports());
            }
        }
        sending.addAll(repeatS);
        receiving.addAll(repeatR);
        if (unknownLeft > 0) {
            unknownLeft--;
            sending.add("ghost-send-" + rank + "-" + calls);
            receiving.add("ghost-recv-" + rank + "-" + calls);
        }
        for (String id : sending) {
            log("reportStep.sending", id, 0);
        }
        for (String id : receiving) {
            log("reportStep.receiving", id, 0);
        }
        Set<Integer> out = new LinkedHashSet<>(errorsNow);
        errorsNow.clear();
        for (Iterator<DueErrors> it = errorQueue.iterator(); it.hasNext(); ) {
            DueErrors d = it.next();
            if (d.due() <= calls) {
                it.remove();
                out.addAll(d.blocks());
            }
        }
        for (int b : out) {
            log("loadError", null, b);
        }
        WorkerStepReport.Builder report = WorkerStepReport.builder()
                .addFinishedSending(sending)
                .addFinishedReceiving(receiving)
                .addInvalidBlockIds(out);
        if (!savedThisStep.isEmpty()) {
            report.workerMetadata(Optional.of(new Metadata.SaveReport(savedThisStep)));
            savedThisStep.clear();
        }
        if (contained != null) {
            report.failure(new InjectedFailure("reportStepFailure", contained.requestId()));
        }
        return report.build();
    }

    @Override
    public void clearConnectorMetadata() {
        bound = Metadata.Step.EMPTY;
    }

    @Override
    public void shutdown() {
        log("shutdown", null, 0);
        for (AsyncLoad l : asyncLoads.values()) {
            awaitAll(l.tickets());
        }
        for (SyncLoad l : syncLoads) {
            awaitAll(l.tickets());
        }
        if (buffer != null) {
            buffer.close();
        }
    }

    long verifiedBlocks() {
        return verifiedBlocks;
    }

    // ------------------------------------------------------------------ helpers

    /** Loads of one request are told apart by generation: an old one still reports when it ends. */
    private static String key(Metadata.Load l) {
        return l.requestId() + "#" + l.generation();
    }

    private long asyncDue() {
        return calls + 1 + config.asyncLoadSteps() + (long) rank * config.rankSkewSteps();
    }

    /** Saves (and verifies) now, awaiting every copy. */
    private void saveNow(List<Metadata.Save> saves) {
        List<Integer> gpu = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        List<Metadata.Save> real = new ArrayList<>();
        for (Metadata.Save s : saves) {
            log(s.verifyOnly() ? "verify" : "save", s.requestId(), s.gpuBlock() * 100_000L + s.slot());
            if (s.verifyOnly()) {
                verify(s);
            } else {
                gpu.add(s.gpuBlock());
                slots.add(s.slot());
                real.add(s);
            }
        }
        if (real.isEmpty()) {
            return;
        }
        if (awaitAll(List.of(copies.copyToHost(ints(gpu), buffer, ints(slots))))) {
            for (Metadata.Save s : real) {
                savedThisStep.put(s.hash(), 1);
            }
        }
    }

    /** Copies a block of an already stored hash to scratch and compares it with the stored copy. */
    private void verify(Metadata.Save s) {
        Integer scratch = freeScratch.poll();
        if (scratch == null) {
            return;
        }
        try {
            if (awaitAll(List.of(copies.copyToHost(new int[] {s.gpuBlock()}, buffer, new int[] {scratch})))) {
                verifiedBlocks++;
                long at = buffer.slot(scratch).mismatch(buffer.slot(s.slot()));
                if (at >= 0) {
                    owner.store()
                            .problem(side + ": block " + s.gpuBlock() + " of " + s.requestId() + " (hash " + s.hash()
                                    + ") differs from the stored copy at byte " + at);
                }
            }
        } finally {
            freeScratch.add(scratch);
        }
    }

    private int[] snapshot(List<Integer> blocks) {
        if (blocks.isEmpty() || freeScratch.size() < blocks.size()) {
            return null;
        }
        int[] slots = new int[blocks.size()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = freeScratch.poll();
        }
        if (!awaitAll(List.of(copies.copyToHost(ints(blocks), buffer, slots)))) {
            release(slots);
            return null;
        }
        return slots;
    }

    private void compareSnapshot(HeldSend h) {
        int[] snap = h.snapshot();
        if (snap == null) {
            return;
        }
        List<Integer> blocks = h.send().gpuBlocks();
        Integer scratch = freeScratch.poll();
        try {
            if (scratch == null) {
                return;
            }
            for (int i = 0; i < blocks.size(); i++) {
                if (awaitAll(List.of(copies.copyToHost(new int[] {blocks.get(i)}, buffer, new int[] {scratch})))) {
                    long at = buffer.slot(scratch).mismatch(buffer.slot(snap[i]));
                    if (at >= 0) {
                        owner.store()
                                .problem(side + ": block " + blocks.get(i) + " of "
                                        + h.send().requestId() + " changed while its free was delayed");
                    }
                }
            }
        } finally {
            if (scratch != null) {
                freeScratch.add(scratch);
            }
            release(snap);
        }
    }

    private void release(int[] slots) {
        for (int s : slots) {
            freeScratch.add(s);
        }
    }

    private static Set<String> repeat(Map<String, Integer> pendingRepeats) {
        Set<String> out = new LinkedHashSet<>();
        for (Iterator<Map.Entry<String, Integer>> it = pendingRepeats.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Integer> e = it.next();
            out.add(e.getKey());
            if (e.getValue() <= 1) {
                it.remove();
            } else {
                e.setValue(e.getValue() - 1);
            }
        }
        return out;
    }

    /**
     * Awaits the synchronous loads started in this step. A copy that failed is a failed load: its
     * blocks are reported as load errors in a later step's report, like
     * blocks whose load was skipped (the engine applies its load failure policy).
     */
    private void awaitSyncLoads() {
        List<SyncLoad> pending = List.copyOf(syncLoads);
        syncLoads.clear();
        for (SyncLoad l : pending) {
            if (!awaitAll(l.tickets())) {
                log("loadCopyFailed", null, l.blocks().size());
                fencedAfterFailedLoad.add(l.requestId());
                errorQueue.add(
                        new DueErrors(calls + 1 + config.errorReportDelaySteps(), new LinkedHashSet<>(l.blocks())));
            }
        }
    }

    /**
     * Whether every copy of an asynchronous load has ended (successfully or not), waiting at most
     * {@link #SETTLE_GRACE} in all: an unstalled copy ends within microseconds, so loads are
     * reported on the step they are due, while a stalled one does not block the worker (a real
     * asynchronous connector polls its transfers).
     */
    private static boolean settled(List<CopyTicket> tickets) {
        long deadline = System.nanoTime() + SETTLE_GRACE.toNanos();
        for (CopyTicket t : tickets) {
            try {
                if (!t.isDone() && !t.await(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                    return false;
                }
            } catch (CopyFailedException e) {
                // Ended, failed: reported with the load.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private boolean awaitAll(List<CopyTicket> tickets) {
        boolean ok = true;
        for (CopyTicket t : tickets) {
            try {
                t.await();
            } catch (CopyFailedException e) {
                ok = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return ok;
    }

    private boolean shouldThrow(String hook, Predicate<String> concerns) {
        return thrownSpec(hook, concerns) != null;
    }

    /** The injected exception to throw from {@code hook} now, or {@code null}; counts it. */
    private ThrowSpec thrownSpec(String hook, Predicate<String> concerns) {
        for (Map.Entry<ThrowSpec, Integer> e : throwsLeft.entrySet()) {
            ThrowSpec t = e.getKey();
            if (e.getValue() > 0
                    && t.hook().equals(hook)
                    && (t.rank() < 0 || t.rank() == rank)
                    && (t.requestId() == null || concerns.test(t.requestId()))) {
                e.setValue(e.getValue() - 1);
                log("throw." + hook, t.requestId(), 0);
                return t;
            }
        }
        return null;
    }

    private void log(String hook, String requestId, long value) {
        owner.log(side, hook, requestId, value);
    }

    private static int[] ints(List<Integer> l) {
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = l.get(i);
        }
        return a;
    }
}
