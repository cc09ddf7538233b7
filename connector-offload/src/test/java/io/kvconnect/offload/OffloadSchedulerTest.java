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
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.CachedBlockConsumer;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ResetResult;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The scheduler side against hand-made engine views: what the conformance kit cannot show
 * directly, namely which GPU blocks are held while copies are in flight (the reuse fences), that
 * blocks are offered only after every rank confirmed, and that repeated matches leak no pins.
 */
class OffloadSchedulerTest {
    private static final int BS = 16;

    /** A request with {@code blocks} full blocks plus one token. */
    static final class FakeRequest implements RequestView {
        final String id;
        final List<BlockHash> hashes = new ArrayList<>();
        int computed;
        RequestStatus status = RequestStatus.WAITING;

        FakeRequest(String id, int prefix, int blocks) {
            this.id = id;
            for (int i = 0; i < blocks; i++) {
                hashes.add(new BlockHash(prefix, 0, 0, i));
            }
        }

        @Override public String requestId() { return id; }
        @Override public RequestStatus status() { return status; }
        @Override public int numPromptTokens() { return numTokens(); }
        @Override public int numTokens() { return hashes.size() * BS + 1; }
        @Override public int tokenId(int index) { return index; }
        @Override public int[] tokenIds(int from, int to) { return new int[to - from]; }
        @Override public int numComputedTokens() { return computed; }
        @Override public int numOutputPlaceholders() { return 0; }
        @Override public int maxTokens() { return 8; }
        @Override public List<BlockHash> blockHashes() { return List.copyOf(hashes); }
        @Override public TransferParams transferParams() { return TransferParams.empty(); }
        @Override public Optional<String> cacheSalt() { return Optional.empty(); }
        @Override public int numPreemptions() { return 0; }
        @Override public int priority() { return 0; }
    }

    /** Counts this connector's references per block, as the engine's view does. */
    static final class FakePool implements GPUBlockPoolView {
        final Map<Integer, Integer> held = new HashMap<>();
        /** The engine's cap on this connector's references. */
        int cap = Integer.MAX_VALUE;

        @Override public int availableReferences() {
            return cap - held.values().stream().mapToInt(Integer::intValue).sum();
        }

        @Override public int numBlocks() { return 1000; }
        @Override public int numFreeBlocks() { return 1000; }
        @Override public void touch(int... ids) { for (int id : ids) { held.merge(id, 1, Integer::sum); } }
        @Override public void free(int... ids) {
            for (int id : ids) {
                int n = held.getOrDefault(id, 0);
                if (n == 0) {
                    throw new IllegalStateException("freeing block " + id + " not held");
                }
                if (n == 1) {
                    held.remove(id);
                } else {
                    held.put(id, n - 1);
                }
            }
        }
        @Override public int heldReferences(int id) { return held.getOrDefault(id, 0); }
        @Override public Optional<BlockHash> cachedHash(int id) { return Optional.empty(); }
        @Override public void forEachCachedBlock(CachedBlockConsumer consumer) { }
    }

    record FakeOutput(long step, List<ScheduledRequest> scheduledRequests, Set<String> preemptedRequestIds,
                      Set<String> finishedRequestIds) implements SchedulerOutputView {
        @Override public int totalScheduledTokens() {
            return scheduledRequests.stream().mapToInt(ScheduledRequest::numScheduledTokens).sum();
        }
    }

    private final FakePool pool = new FakePool();
    private long step;

    private OffloadScheduler scheduler(int workers, Map<String, Object> extra) {
        return scheduler(workers, extra, false);
    }

    private OffloadScheduler scheduler(int workers, Map<String, Object> extra, boolean async) {
        Map<String, Object> values = new HashMap<>(Map.of("capacity", "1MiB"));
        values.putAll(extra);
        ConnectorConfig cc = ConnectorConfig.of("connector.config", values);
        OffloadConfig c = OffloadConfig.parse(cc);
        EngineInfo info = new EngineInfo("e", OffloadConfigTest.TINY, BS, 1000, workers, async);
        OffloadScheduler s = new OffloadScheduler(c, c.slots(cc, info), info);
        s.bindSchedulerState(new SchedulerState() {
            @Override public int blockSize() { return BS; }
            @Override public long step() { return step; }
            @Override public boolean asyncScheduling() { return async; }
            @Override public List<RequestView> waitingRequests() { return List.of(); }
            @Override public List<RequestView> runningRequests() { return List.of(); }
            @Override public Optional<RequestView> findRequest(String requestId) { return Optional.empty(); }
            @Override public GPUBlockPoolView gpuBlockPool() { return pool; }
        });
        return s;
    }

    private OffloadMetadata build(OffloadScheduler s, List<ScheduledRequest> scheduled, Set<String> preempted) {
        ConnectorMetadata m = s.buildConnectorMetadata(new FakeOutput(step++, scheduled, preempted, Set.of()));
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
        r.computed = r.numTokens();
        return build(s, List.of(new ScheduledRequest(r, ScheduledRequest.Kind.CONTINUING, 1, r.numTokens(),
                BlockIds.empty())), Set.of());
    }

    /** Schedules the prefill of {@code r} (blocks 10, 11, ...); returns that step's metadata. */
    private OffloadMetadata admit(OffloadScheduler s, FakeRequest r, int firstBlockId) {
        int n = r.hashes.size() + 1;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = firstBlockId + i;
        }
        assertEquals(MatchResult.none(), s.getNumNewMatchedTokens(r, 0));
        s.updateStateAfterAlloc(r, BlockIds.of(ids), 0);
        r.status = RequestStatus.RUNNING;
        return build(s, List.of(new ScheduledRequest(r, ScheduledRequest.Kind.NEW, r.numTokens(), 0, BlockIds.of(ids))),
                Set.of());
    }

    @Test
    void storedBlocksAreOfferedOnlyAfterEveryRankAndGpuBlocksAreHeldUntilThen() {
        OffloadScheduler s = scheduler(2, Map.of());
        FakeRequest a = new FakeRequest("a", 1, 3);
        OffloadMetadata m = prefill(s, a, 10);
        assertEquals(1, m.stores().size());
        assertEquals(3, m.stores().getFirst().gpuBlocks().length, "the three full blocks, not the partial one");
        for (int b = 10; b < 13; b++) {
            assertEquals(1, pool.heldReferences(b), "block " + b + " is held while its store is in flight");
        }
        // The request finishes and its blocks go back to the engine: our references keep them.
        a.computed = a.numTokens();
        a.status = RequestStatus.FINISHED_ABORTED;
        assertFalse(s.requestFinished(a, BlockIds.of(10, 11, 12, 13)).delayFree());
        assertEquals(1, pool.heldReferences(10));
        FakeRequest b = new FakeRequest("b", 1, 3);
        report(s, 0, all(m, true));
        assertEquals(MatchResult.none(), s.getNumNewMatchedTokens(b, 0), "one of two ranks is not enough");
        assertEquals(1, pool.heldReferences(10));
        report(s, 1, all(m, true));
        assertTrue(pool.held.isEmpty(), "every reference is given back once both ranks reported");
        assertEquals(MatchResult.async(3 * BS), s.getNumNewMatchedTokens(b, 0));
        List<KvEvent> events = s.takeEvents();
        assertEquals(List.of(new KvEvent.BlockStored(a.hashes, Optional.empty(), BS, 0, StorageMedium.CPU)), events);
    }

    @Test
    void storesBeyondTheEnginesReferenceCapWaitForEarlierStoresToFinish() {
        OffloadScheduler s = scheduler(1, Map.of());
        pool.cap = 2;
        FakeRequest a = new FakeRequest("a", 1, 3);

        OffloadMetadata m = prefill(s, a, 10);

        assertEquals(1, m.stores().size());
        assertEquals(List.of(10, 11), java.util.Arrays.stream(m.stores().getFirst().gpuBlocks()).boxed().toList(),
                "as many blocks as the cap allows; the third waits");
        assertEquals(0, pool.heldReferences(12));
        assertEquals(1, ((CounterStats) s.takeStats().orElseThrow()).get("store_deferred_references"));
        assertTrue(build(s, List.of(new ScheduledRequest(a, ScheduledRequest.Kind.CONTINUING, 1, a.numTokens(),
                BlockIds.empty())), Set.of()).stores().isEmpty(), "nothing more while the cap is reached");

        report(s, 0, all(m, true));
        OffloadMetadata next = build(s, List.of(new ScheduledRequest(a, ScheduledRequest.Kind.CONTINUING, 1,
                a.numTokens(), BlockIds.empty())), Set.of());

        assertEquals(List.of(12), java.util.Arrays.stream(next.stores().getFirst().gpuBlocks()).boxed().toList(),
                "the deferred block once the first store gave its references back");
        assertEquals(1, pool.heldReferences(12));
    }

    @Test
    void repeatedMatchesLeakNoPinsAndLoadsPinUntilReported() {
        OffloadScheduler s = scheduler(1, Map.of());
        FakeRequest a = new FakeRequest("a", 1, 4);
        report(s, 0, all(prefill(s, a, 10), true));
        FakeRequest b = new FakeRequest("b", 1, 4);
        for (int retry = 0; retry < 5; retry++) {
            assertEquals(MatchResult.async(3 * BS), s.getNumNewMatchedTokens(b, BS));
        }
        for (BlockHash h : a.hashes.subList(1, 4)) {
            assertEquals(1, s.tier().pins(h), "retries replace the pin instead of adding one");
        }
        assertEquals(0, s.tier().pins(a.hashes.getFirst()), "the local hit is not pinned");
        s.updateStateAfterAlloc(b, BlockIds.of(20, 21, 22, 23, 24), 3 * BS);
        OffloadMetadata m = build(s, List.of(), Set.of());
        assertEquals(1, m.loads().size());
        OffloadMetadata.LoadJob load = m.loads().getFirst();
        assertTrue(load.async());
        assertEquals(List.of(21, 22, 23), java.util.Arrays.stream(load.gpuBlocks()).boxed().toList(),
                "the blocks after the local hit");
        assertEquals(ResetResult.FAILED, s.resetCache(), "a load is in flight");
        report(s, 0, all(m, true));
        for (BlockHash h : a.hashes) {
            assertEquals(0, s.tier().pins(h));
        }
        // A match that is never allocated is released when the request finishes.
        FakeRequest c = new FakeRequest("c", 1, 4);
        s.getNumNewMatchedTokens(c, 0);
        c.status = RequestStatus.FINISHED_ABORTED;
        s.requestFinished(c, BlockIds.empty());
        for (BlockHash h : a.hashes) {
            assertEquals(0, s.tier().pins(h));
        }
        assertEquals(ResetResult.RESET, s.resetCache());
        assertEquals(List.of(new KvEvent.AllBlocksCleared(StorageMedium.CPU)),
                s.takeEvents().stream().filter(e -> e instanceof KvEvent.AllBlocksCleared).toList());
        assertEquals(MatchResult.none(), s.getNumNewMatchedTokens(new FakeRequest("d", 1, 4), 0));
        CounterStats stats = (CounterStats) s.takeStats().orElseThrow();
        assertEquals(3, stats.get("hit_blocks"));
        assertEquals(4, stats.get("stored_blocks"));
    }

    @Test
    void preemptionFencesStoresInFlightAndAFailedStoreDropsItsEntries() {
        OffloadScheduler s = scheduler(1, Map.of("load", "sync"));
        FakeRequest a = new FakeRequest("a", 1, 2);
        OffloadMetadata first = prefill(s, a, 10);
        OffloadMetadata next = build(s, List.of(), Set.of("a"));
        assertEquals(Set.of("a"), next.fence(), "the workers must finish a's copies before the step");
        assertEquals(1, pool.heldReferences(10), "still held: the copy may still read it");
        report(s, 0, all(first, false));
        assertTrue(pool.held.isEmpty());
        assertFalse(s.tier().contains(a.hashes.getFirst()), "a failed store drops its entries");
        assertEquals(1, ((CounterStats) s.takeStats().orElseThrow()).get("store_failures"));
        assertFalse(s.hasPendingWork());
    }

    @Test
    void aFailedLoadStopsStoresOfThatRequest() {
        OffloadScheduler s = scheduler(1, Map.of("load", "sync"));
        FakeRequest a = new FakeRequest("a", 1, 2);
        report(s, 0, all(prefill(s, a, 10), true));
        FakeRequest b = new FakeRequest("b", 1, 4);
        assertEquals(MatchResult.sync(2 * BS), s.getNumNewMatchedTokens(b, 0));
        BlockIds blocks = BlockIds.of(30, 31, 32, 33, 34);
        s.updateStateAfterAlloc(b, blocks, 2 * BS);
        OffloadMetadata m = build(s, List.of(new ScheduledRequest(b, ScheduledRequest.Kind.NEW, 2 * BS + 1, 2 * BS,
                blocks)), Set.of());
        assertEquals(1, m.loads().size());
        assertTrue(m.stores().isEmpty(), "blocks 2 and 3 are computed in this step, not confirmed");
        report(s, 0, all(m, false));
        // Even if its blocks were confirmed later, nothing computed over the failed load is stored.
        b.computed = b.numTokens();
        OffloadMetadata next = build(s, List.of(new ScheduledRequest(b, ScheduledRequest.Kind.CONTINUING, 1,
                b.numTokens(), BlockIds.empty())), Set.of());
        assertTrue(next.stores().isEmpty(), "stores of a request whose load failed");
        assertFalse(s.tier().contains(b.hashes.get(2)));
        assertTrue(s.tier().isReady(b.hashes.get(0)), "the host copy itself stays");
        assertTrue(pool.held.isEmpty());
    }

    @Test
    void storeThresholdWaitsForLookups() {
        OffloadScheduler s = scheduler(1, Map.of("store_threshold", 2L));
        FakeRequest a = new FakeRequest("a", 1, 2);
        assertTrue(prefill(s, a, 10).stores().isEmpty(), "looked up once: not stored");
        a.status = RequestStatus.FINISHED_STOPPED;
        s.requestFinished(a, BlockIds.of(10, 11, 12));
        FakeRequest b = new FakeRequest("b", 1, 2);
        OffloadMetadata m = prefill(s, b, 20);
        assertEquals(1, m.stores().size(), "looked up twice: stored");
        assertInstanceOf(OffloadMetadata.StoreJob.class, m.stores().getFirst());
    }

    @Test
    void aBlockMultipleStoresWholeOffloadedBlocksAndLoadsFromTheMiddleOfOne() {
        OffloadScheduler s = scheduler(1, Map.of("block_multiple", 2L));
        FakeRequest a = new FakeRequest("a", 1, 5);
        OffloadMetadata m = prefill(s, a, 10);
        assertEquals(1, m.stores().size());
        OffloadMetadata.StoreJob store = m.stores().getFirst();
        assertEquals(List.of(10, 11, 12, 13), java.util.Arrays.stream(store.gpuBlocks()).boxed().toList(),
                "two whole offloaded blocks; the fifth engine block waits for its pair");
        int[] slots = store.slots();
        assertEquals(slots[0] + 1, slots[1], "an offloaded block's engine blocks are adjacent host slots");
        assertEquals(slots[2] + 1, slots[3]);
        assertEquals(0, slots[0] % 2);
        report(s, 0, all(m, true));
        assertEquals(List.of(new KvEvent.BlockStored(List.of(a.hashes.get(1), a.hashes.get(3)), Optional.empty(),
                2 * BS, 0, StorageMedium.CPU)), s.takeEvents(), "keyed by each offloaded block's last hash");

        FakeRequest b = new FakeRequest("b", 1, 5);
        assertEquals(MatchResult.async(3 * BS), s.getNumNewMatchedTokens(b, BS),
                "the GPU holds block 0; blocks 1 to 3 come from the tier");
        assertEquals(1, s.tier().pins(a.hashes.get(1)));
        assertEquals(1, s.tier().pins(a.hashes.get(3)));
        s.updateStateAfterAlloc(b, BlockIds.of(20, 21, 22, 23, 24, 25), 3 * BS);
        OffloadMetadata.LoadJob load = build(s, List.of(), Set.of()).loads().getFirst();
        assertEquals(List.of(21, 22, 23), java.util.Arrays.stream(load.gpuBlocks()).boxed().toList());
        assertEquals(List.of(slots[1], slots[2], slots[3]), java.util.Arrays.stream(load.slots()).boxed().toList(),
                "the second half of the first offloaded block, then all of the second");
        report(s, 0, Map.of(load.id(), true));
        assertEquals(0, s.tier().pins(a.hashes.get(1)));
        CounterStats stats = (CounterStats) s.takeStats().orElseThrow();
        assertEquals(4, stats.get("stored_blocks"), "engine blocks");
        assertEquals(3, stats.get("loaded_blocks"));
    }

    @Test
    void aBlockMultipleNeverOffersAPartlyStoredPrefix() {
        OffloadScheduler s = scheduler(1, Map.of("block_multiple", 4L));
        FakeRequest a = new FakeRequest("a", 1, 3);
        assertTrue(prefill(s, a, 10).stores().isEmpty(), "three engine blocks make no offloaded block of four");
        a.computed = a.numTokens();
        a.status = RequestStatus.FINISHED_STOPPED;
        s.requestFinished(a, BlockIds.of(10, 11, 12, 13));
        assertTrue(build(s, List.of(), Set.of()).stores().isEmpty());
        assertEquals(MatchResult.none(), s.getNumNewMatchedTokens(new FakeRequest("b", 1, 3), 0));
        assertTrue(pool.held.isEmpty());
    }

    @Test
    void underAsyncSchedulingOnlyKvConfirmedBlocksAreStored() {
        OffloadScheduler s = scheduler(1, Map.of(), true);
        FakeRequest a = new FakeRequest("a", 1, 3);
        assertTrue(admit(s, a, 10).stores().isEmpty(), "scheduled, not confirmed: the step may be discarded");
        a.computed = 2 * BS; // the engine confirmed two blocks
        BlockIds none = BlockIds.empty();
        OffloadMetadata m = build(s, List.of(new ScheduledRequest(a, ScheduledRequest.Kind.CONTINUING, 1, 2 * BS,
                none)), Set.of());
        assertEquals(List.of(10, 11), java.util.Arrays.stream(m.stores().getFirst().gpuBlocks()).boxed().toList());
        a.computed = a.numTokens();
        a.status = RequestStatus.FINISHED_STOPPED;
        s.requestFinished(a, BlockIds.of(10, 11, 12, 13));
        OffloadMetadata last = build(s, List.of(), Set.of());
        assertEquals(List.of(12), java.util.Arrays.stream(last.stores().getFirst().gpuBlocks()).boxed().toList(),
                "the rest once the request is done");
    }
}
