package io.kvconnect.offload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.ResetResult;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.testkit.ConnectorConfigs;
import io.kvconnect.testkit.doubles.FakeBlockPool;
import io.kvconnect.testkit.doubles.FakeRequest;
import io.kvconnect.testkit.doubles.FakeSchedulerOutput;
import io.kvconnect.testkit.doubles.FakeSchedulerState;
import io.kvconnect.testkit.doubles.PrefillSteps;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The scheduler side against hand-made engine views: what the conformance kit cannot show
 * directly, namely which GPU blocks are held while copies are in flight (the reuse fences), that
 * blocks are offered only after every rank confirmed, and that repeated matches leak no pins.
 */
class OffloadSchedulerTest {
    private static final int BS = 16;

    /** A waiting request with {@code blocks} full blocks plus one token; block i's hash is (prefix, 0, 0, i). */
    private static FakeRequest request(String id, int prefix, int blocks) {
        List<BlockHash> hashes = IntStream.range(0, blocks)
                .mapToObj(i -> new BlockHash(prefix, 0, 0, i))
                .toList();
        return FakeRequest.builder(id)
                .countingTokens(blocks * BS + 1)
                .blockHashes(hashes)
                .maxTokens(8)
                .build();
    }

    /** The engine's pool view: no cap on the connector's references unless a test sets one. */
    private FakeBlockPool pool = new FakeBlockPool(1000, Integer.MAX_VALUE);

    private long step;

    private OffloadScheduler scheduler(int workers, Map<String, Object> extra) {
        return scheduler(workers, extra, false);
    }

    private OffloadScheduler scheduler(int workers, Map<String, Object> extra, boolean async) {
        return scheduler(workers, extra, async, pool);
    }

    /** A scheduler side bound to {@code view} as its engine's pool view. */
    private OffloadScheduler scheduler(int workers, Map<String, Object> extra, boolean async, GPUBlockPoolView view) {
        Map<String, Object> values = new HashMap<>(Map.of("capacity", "1MiB"));
        values.putAll(extra);
        ConnectorConfig cc = ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, values);
        OffloadConfig c = OffloadConfig.parse(cc);
        EngineInfo info = new EngineInfo("e", OffloadConfigTest.TINY, BS, 1000, workers, async);
        OffloadScheduler s = new OffloadScheduler(c, c.slots(cc, info), info);
        FakeSchedulerState state = new FakeSchedulerState(BS, view);
        state.setAsyncScheduling(async);
        s.bindSchedulerState(state);
        return s;
    }

    private OffloadMetadata build(OffloadScheduler s, List<ScheduledRequest> scheduled, Set<String> preempted) {
        ConnectorMetadata m = s.buildConnectorMetadata(new FakeSchedulerOutput(step++, scheduled, preempted, Set.of()));
        return m instanceof OffloadMetadata om ? om : OffloadMetadata.EMPTY;
    }

    private static void report(OffloadScheduler s, int rank, Map<Long, Boolean> jobs) {
        s.updateConnectorOutput(ConnectorOutput.EMPTY.withWorkerMetadata(Optional.of(JobReports.of(rank, jobs))));
    }

    private static Map<Long, Boolean> all(OffloadMetadata m, boolean ok) {
        Map<Long, Boolean> out = new HashMap<>();
        m.stores().forEach(j -> out.put(j.id(), ok));
        m.loads().forEach(j -> out.put(j.id(), ok));
        return out;
    }

    /**
     * Prefills {@code r} (blocks 10, 11, ...) in one step, confirms it, and schedules its first
     * decode step; returns that step's metadata (stores are planned from confirmed tokens).
     */
    private OffloadMetadata prefill(OffloadScheduler s, FakeRequest r, int firstBlockId) {
        assertTrue(admit(s, r, firstBlockId).stores().isEmpty(), "nothing is confirmed before the prefill ran");
        return build(s, List.of(PrefillSteps.computed(r)), Set.of());
    }

    /** Schedules the prefill of {@code r} (blocks 10, 11, ...); returns that step's metadata. */
    private OffloadMetadata admit(OffloadScheduler s, FakeRequest r, int firstBlockId) {
        return build(s, List.of(PrefillSteps.admit(s, r, firstBlockId)), Set.of());
    }

    @Test
    void storedBlocksAreOfferedOnlyAfterEveryRankAndGpuBlocksAreHeldUntilThen() {
        OffloadScheduler s = scheduler(2, Map.of());
        FakeRequest a = request("a", 1, 3);
        OffloadMetadata m = prefill(s, a, 10);
        assertEquals(1, m.stores().size());
        assertEquals(3, m.stores().getFirst().gpuBlocks().length, "the three full blocks, not the partial one");
        for (int b = 10; b < 13; b++) {
            assertEquals(1, pool.heldReferences(b), "block " + b + " is held while its store is in flight");
        }
        // The request finishes and its blocks go back to the engine: our references keep them.
        a.setNumComputedTokens(a.numTokens());
        a.setStatus(RequestStatus.FINISHED_ABORTED);
        assertFalse(s.requestFinished(a, BlockIds.of(10, 11, 12, 13)).delayFree());
        assertEquals(1, pool.heldReferences(10));
        FakeRequest b = request("b", 1, 3);
        report(s, 0, all(m, true));
        assertEquals(MatchResult.none(), s.getNumNewMatchedTokens(b, 0), "one of two ranks is not enough");
        assertEquals(1, pool.heldReferences(10));
        report(s, 1, all(m, true));
        assertTrue(pool.totalHeld() == 0, "every reference is given back once both ranks reported");
        assertEquals(MatchResult.async(3 * BS), s.getNumNewMatchedTokens(b, 0));
        List<KvEvent> events = s.takeEvents();
        assertEquals(
                List.of(new KvEvent.BlockStored(a.blockHashes(), Optional.empty(), BS, 0, StorageMedium.CPU)), events);
    }

    @Test
    void storesBeyondTheEnginesReferenceCapWaitForEarlierStoresToFinish() {
        pool = new FakeBlockPool(1000, 2);
        OffloadScheduler s = scheduler(1, Map.of());
        FakeRequest a = request("a", 1, 3);

        OffloadMetadata m = prefill(s, a, 10);

        assertEquals(1, m.stores().size());
        assertEquals(
                List.of(10, 11),
                java.util.Arrays.stream(m.stores().getFirst().gpuBlocks())
                        .boxed()
                        .toList(),
                "as many blocks as the cap allows; the third waits");
        assertEquals(0, pool.heldReferences(12));
        assertEquals(1, ((CounterStats) s.takeStats().orElseThrow()).get("store_deferred_references"));
        assertTrue(
                build(
                                s,
                                List.of(new ScheduledRequest(
                                        a, ScheduledRequest.Kind.CONTINUING, 1, a.numTokens(), BlockIds.empty())),
                                Set.of())
                        .stores()
                        .isEmpty(),
                "nothing more while the cap is reached");

        report(s, 0, all(m, true));
        OffloadMetadata next = build(
                s,
                List.of(new ScheduledRequest(a, ScheduledRequest.Kind.CONTINUING, 1, a.numTokens(), BlockIds.empty())),
                Set.of());

        assertEquals(
                List.of(12),
                java.util.Arrays.stream(next.stores().getFirst().gpuBlocks())
                        .boxed()
                        .toList(),
                "the deferred block once the first store gave its references back");
        assertEquals(1, pool.heldReferences(12));
    }

    @Test
    void repeatedMatchesLeakNoPinsAndLoadsPinUntilReported() {
        OffloadScheduler s = scheduler(1, Map.of());
        FakeRequest a = request("a", 1, 4);
        report(s, 0, all(prefill(s, a, 10), true));
        FakeRequest b = request("b", 1, 4);
        for (int retry = 0; retry < 5; retry++) {
            assertEquals(MatchResult.async(3 * BS), s.getNumNewMatchedTokens(b, BS));
        }
        for (BlockHash h : a.blockHashes().subList(1, 4)) {
            assertEquals(1, s.tier().pins(h), "retries replace the pin instead of adding one");
        }
        assertEquals(0, s.tier().pins(a.blockHashes().getFirst()), "the local hit is not pinned");
        b.setBlockIds(BlockIds.of(20, 21, 22, 23, 24));
        s.updateStateAfterAlloc(b, b.blockIds(), BS, 3 * BS);
        OffloadMetadata m = build(s, List.of(), Set.of());
        assertEquals(1, m.loads().size());
        OffloadMetadata.LoadJob load = m.loads().getFirst();
        assertTrue(load.async());
        assertEquals(
                List.of(21, 22, 23),
                java.util.Arrays.stream(load.gpuBlocks()).boxed().toList(),
                "the blocks after the local hit");
        assertEquals(ResetResult.FAILED, s.resetCache(), "a load is in flight");
        report(s, 0, all(m, true));
        for (BlockHash h : a.blockHashes()) {
            assertEquals(0, s.tier().pins(h));
        }
        // A match that is never allocated is released when the request finishes.
        FakeRequest c = request("c", 1, 4);
        s.getNumNewMatchedTokens(c, 0);
        c.setStatus(RequestStatus.FINISHED_ABORTED);
        s.requestFinished(c, BlockIds.empty());
        for (BlockHash h : a.blockHashes()) {
            assertEquals(0, s.tier().pins(h));
        }
        assertEquals(ResetResult.RESET, s.resetCache());
        assertEquals(
                List.of(new KvEvent.AllBlocksCleared(StorageMedium.CPU)),
                s.takeEvents().stream()
                        .filter(e -> e instanceof KvEvent.AllBlocksCleared)
                        .toList());
        assertEquals(MatchResult.none(), s.getNumNewMatchedTokens(request("d", 1, 4), 0));
        CounterStats stats = (CounterStats) s.takeStats().orElseThrow();
        assertEquals(3, stats.get("hit_blocks"));
        assertEquals(4, stats.get("stored_blocks"));
    }

    @Test
    void preemptionFencesStoresInFlightAndAFailedStoreDropsItsEntries() {
        OffloadScheduler s = scheduler(1, Map.of("load", "sync"));
        FakeRequest a = request("a", 1, 2);
        OffloadMetadata first = prefill(s, a, 10);
        OffloadMetadata next = build(s, List.of(), Set.of("a"));
        assertEquals(Set.of("a"), next.fence(), "the workers must finish a's copies before the step");
        assertEquals(1, pool.heldReferences(10), "still held: the copy may still read it");
        report(s, 0, all(first, false));
        assertTrue(pool.totalHeld() == 0);
        assertFalse(s.tier().contains(a.blockHashes().getFirst()), "a failed store drops its entries");
        assertEquals(1, ((CounterStats) s.takeStats().orElseThrow()).get("store_failures"));
        assertFalse(s.hasPendingWork());
    }

    @Test
    void aFailedLoadStopsStoresOfThatRequest() {
        OffloadScheduler s = scheduler(1, Map.of("load", "sync"));
        FakeRequest a = request("a", 1, 2);
        report(s, 0, all(prefill(s, a, 10), true));
        FakeRequest b = request("b", 1, 4);
        assertEquals(MatchResult.sync(2 * BS), s.getNumNewMatchedTokens(b, 0));
        BlockIds blocks = BlockIds.of(30, 31, 32, 33, 34);
        b.setBlockIds(blocks);
        s.updateStateAfterAlloc(b, blocks, 0, 2 * BS);
        OffloadMetadata m = build(
                s, List.of(new ScheduledRequest(b, ScheduledRequest.Kind.NEW, 2 * BS + 1, 2 * BS, blocks)), Set.of());
        assertEquals(1, m.loads().size());
        assertTrue(m.stores().isEmpty(), "blocks 2 and 3 are computed in this step, not confirmed");
        report(s, 0, all(m, false));
        // Even if its blocks were confirmed later, nothing computed over the failed load is stored.
        b.setNumComputedTokens(b.numTokens());
        OffloadMetadata next = build(
                s,
                List.of(new ScheduledRequest(b, ScheduledRequest.Kind.CONTINUING, 1, b.numTokens(), BlockIds.empty())),
                Set.of());
        assertTrue(next.stores().isEmpty(), "stores of a request whose load failed");
        assertFalse(s.tier().contains(b.blockHashes().get(2)));
        assertTrue(s.tier().isReady(b.blockHashes().get(0)), "the host copy itself stays");
        assertTrue(pool.totalHeld() == 0);
    }

    @Test
    void aHeldBlockAnotherRequestUsesFromTheGpuIsAsRecentAsAHit() {
        EngineInfo info = new EngineInfo("e", OffloadConfigTest.TINY, BS, 1000, 1, false);
        long twoBlocks = 2 * OffloadConfig.bytesPerBlockAllWorkers(info);
        OffloadScheduler s = scheduler(1, Map.of("capacity", twoBlocks));
        assertEquals(2, s.tier().numSlots());
        FakeRequest a = request("a", 1, 1);
        report(s, 0, all(prefill(s, a, 10), true));
        FakeRequest b = request("b", 2, 1);
        report(s, 0, all(prefill(s, b, 20), true));
        // c shares a's first block, which the GPU prefix cache still holds: it asks the tier only
        // for its second block, misses, computes it and stores it, so the tier must evict one.
        FakeRequest c = request("c", 1, 2);
        assertEquals(MatchResult.none(), s.getNumNewMatchedTokens(c, BS));
        c.setBlockIds(BlockIds.of(10, 30, 31));
        s.updateStateAfterAlloc(c, c.blockIds(), BS, 0);
        c.setStatus(RequestStatus.RUNNING);
        build(s, List.of(new ScheduledRequest(c, ScheduledRequest.Kind.NEW, BS + 1, BS, c.blockIds())), Set.of());
        c.setNumComputedTokens(c.numTokens());
        OffloadMetadata m = build(
                s,
                List.of(new ScheduledRequest(c, ScheduledRequest.Kind.CONTINUING, 1, c.numTokens(), BlockIds.empty())),
                Set.of());
        report(s, 0, all(m, true));

        assertTrue(s.tier().isReady(new BlockHash(1, 0, 0, 0)), "a's block, used again by c, is kept");
        assertTrue(s.tier().isReady(new BlockHash(1, 0, 0, 1)));
        assertFalse(s.tier().contains(new BlockHash(2, 0, 0, 0)), "b's block, not used since, is evicted");
    }

    @Test
    void storeThresholdWaitsForLookups() {
        OffloadScheduler s = scheduler(1, Map.of("store_threshold", 2L));
        FakeRequest a = request("a", 1, 2);
        assertTrue(prefill(s, a, 10).stores().isEmpty(), "looked up once: not stored");
        a.setStatus(RequestStatus.FINISHED_STOPPED);
        s.requestFinished(a, BlockIds.of(10, 11, 12));
        FakeRequest b = request("b", 1, 2);
        OffloadMetadata m = prefill(s, b, 20);
        assertEquals(1, m.stores().size(), "looked up twice: stored");
        assertInstanceOf(OffloadMetadata.StoreJob.class, m.stores().getFirst());
    }

    @Test
    void aBlockMultipleStoresWholeOffloadedBlocksAndLoadsFromTheMiddleOfOne() {
        OffloadScheduler s = scheduler(1, Map.of("block_multiple", 2L));
        FakeRequest a = request("a", 1, 5);
        OffloadMetadata m = prefill(s, a, 10);
        assertEquals(1, m.stores().size());
        OffloadMetadata.StoreJob store = m.stores().getFirst();
        assertEquals(
                List.of(10, 11, 12, 13),
                java.util.Arrays.stream(store.gpuBlocks()).boxed().toList(),
                "two whole offloaded blocks; the fifth engine block waits for its pair");
        int[] slots = store.slots();
        assertEquals(slots[0] + 1, slots[1], "an offloaded block's engine blocks are adjacent host slots");
        assertEquals(slots[2] + 1, slots[3]);
        assertEquals(0, slots[0] % 2);
        report(s, 0, all(m, true));
        assertEquals(
                List.of(new KvEvent.BlockStored(
                        List.of(a.blockHashes().get(1), a.blockHashes().get(3)),
                        Optional.empty(),
                        2 * BS,
                        0,
                        StorageMedium.CPU)),
                s.takeEvents(),
                "keyed by each offloaded block's last hash");

        FakeRequest b = request("b", 1, 5);
        assertEquals(
                MatchResult.async(3 * BS),
                s.getNumNewMatchedTokens(b, BS),
                "the GPU holds block 0; blocks 1 to 3 come from the tier");
        assertEquals(1, s.tier().pins(a.blockHashes().get(1)));
        assertEquals(1, s.tier().pins(a.blockHashes().get(3)));
        b.setBlockIds(BlockIds.of(20, 21, 22, 23, 24, 25));
        s.updateStateAfterAlloc(b, b.blockIds(), BS, 3 * BS);
        OffloadMetadata.LoadJob load = build(s, List.of(), Set.of()).loads().getFirst();
        assertEquals(
                List.of(21, 22, 23),
                java.util.Arrays.stream(load.gpuBlocks()).boxed().toList());
        assertEquals(
                List.of(slots[1], slots[2], slots[3]),
                java.util.Arrays.stream(load.slots()).boxed().toList(),
                "the second half of the first offloaded block, then all of the second");
        report(s, 0, Map.of(load.id(), true));
        assertEquals(0, s.tier().pins(a.blockHashes().get(1)));
        CounterStats stats = (CounterStats) s.takeStats().orElseThrow();
        assertEquals(4, stats.get("stored_blocks"), "engine blocks");
        assertEquals(3, stats.get("loaded_blocks"));
    }

    @Test
    void aBlockMultipleNeverOffersAPartlyStoredPrefix() {
        OffloadScheduler s = scheduler(1, Map.of("block_multiple", 4L));
        FakeRequest a = request("a", 1, 3);
        assertTrue(prefill(s, a, 10).stores().isEmpty(), "three engine blocks make no offloaded block of four");
        a.setNumComputedTokens(a.numTokens());
        a.setStatus(RequestStatus.FINISHED_STOPPED);
        s.requestFinished(a, BlockIds.of(10, 11, 12, 13));
        assertTrue(build(s, List.of(), Set.of()).stores().isEmpty());
        assertEquals(MatchResult.none(), s.getNumNewMatchedTokens(request("b", 1, 3), 0));
        assertTrue(pool.totalHeld() == 0);
    }

    @Test
    void underAsyncSchedulingOnlyKvConfirmedBlocksAreStored() {
        OffloadScheduler s = scheduler(1, Map.of(), true);
        FakeRequest a = request("a", 1, 3);
        assertTrue(admit(s, a, 10).stores().isEmpty(), "scheduled, not confirmed: the step may be discarded");
        a.setNumComputedTokens(2 * BS); // the engine confirmed two blocks
        BlockIds none = BlockIds.empty();
        OffloadMetadata m =
                build(s, List.of(new ScheduledRequest(a, ScheduledRequest.Kind.CONTINUING, 1, 2 * BS, none)), Set.of());
        assertEquals(
                List.of(10, 11),
                java.util.Arrays.stream(m.stores().getFirst().gpuBlocks())
                        .boxed()
                        .toList());
        a.setNumComputedTokens(a.numTokens());
        a.setStatus(RequestStatus.FINISHED_STOPPED);
        s.requestFinished(a, BlockIds.of(10, 11, 12, 13));
        OffloadMetadata last = build(s, List.of(), Set.of());
        assertEquals(
                List.of(12),
                java.util.Arrays.stream(last.stores().getFirst().gpuBlocks())
                        .boxed()
                        .toList(),
                "the rest once the request is done");
    }

    @Test
    void aStoreEndingAfterTheEngineTookItsReferencesBackFreesNothingALaterStoreHolds() {
        FakeBlockPool engine = new FakeBlockPool(1000, Integer.MAX_VALUE);
        OffloadScheduler s = scheduler(1, Map.of(), false, engine);
        OffloadMetadata early = prefill(s, request("a", 1, 2), 10);
        assertEquals(List.of(10, 11), storeBlocks(early));

        // The connector made no progress for its timeout: the engine takes every reference back,
        // gives block 11 to request b, and b's store touches it again.
        engine.takeBackAll();
        OffloadMetadata late = prefill(s, request("b", 2, 2), 11);
        assertEquals(List.of(11, 12), storeBlocks(late));

        // The early store ends after all (its copy refused: the engine ended its grants).
        report(s, 0, all(early, false));

        assertEquals(1, engine.heldReferences(11), "the later store's copy still reads block 11");
        assertEquals(1, engine.heldReferences(12));
        assertEquals(0, engine.heldReferences(10));
        assertEquals(2, ((CounterStats) s.takeStats().orElseThrow()).get("references_taken_back"));
        report(s, 0, all(late, true));
        assertEquals(0, engine.totalHeld(), "the later store gives back its own references");
    }

    @Test
    void aStoreEndingAfterATakeBackFreesNoneOfALaterStoreOnTheSameBlocks() {
        FakeBlockPool engine = new FakeBlockPool(1000, Integer.MAX_VALUE);
        OffloadScheduler s = scheduler(1, Map.of(), false, engine);
        OffloadMetadata early = prefill(s, request("a", 1, 2), 10);
        engine.takeBackAll();
        OffloadMetadata late = prefill(s, request("b", 2, 2), 10);
        assertEquals(storeBlocks(early), storeBlocks(late), "the later store holds every block the early one names");

        report(s, 0, all(early, true));

        assertEquals(1, engine.heldReferences(10), "the later store's copy still reads block 10");
        assertEquals(1, engine.heldReferences(11));
        report(s, 0, all(late, true));
        assertEquals(0, engine.totalHeld());
    }

    @Test
    void aShutdownAfterTheEngineTookReferencesBackGivesBackOnlyWhatIsStillHeld() {
        FakeBlockPool engine = new FakeBlockPool(1000, Integer.MAX_VALUE);
        OffloadScheduler s = scheduler(1, Map.of(), false, engine);
        prefill(s, request("a", 1, 2), 10);
        engine.takeBackAll();
        prefill(s, request("b", 2, 2), 11);
        s.takeStats();

        s.shutdown();

        assertEquals(0, engine.totalHeld(), "the later store's references are given back, once");
        assertEquals(
                2,
                ((CounterStats) s.takeStats().orElseThrow()).get("references_taken_back"),
                "the early store's references, which the engine took back, are not freed");
    }

    private static List<Integer> storeBlocks(OffloadMetadata m) {
        assertEquals(1, m.stores().size());
        return java.util.Arrays.stream(m.stores().getFirst().gpuBlocks())
                .boxed()
                .toList();
    }
}
