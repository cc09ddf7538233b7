package io.kvconnect.offload;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ResetResult;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The scheduler side of the offload connector. Scheduler thread only.
 *
 * <p><b>Stores.</b> In {@link #buildConnectorMetadata} each scheduled request's blocks that are
 * full of KV-confirmed tokens ({@code numComputedTokens()}) and whose hash is known get a slot; the
 * workers copy them after the step's compute. Not the tokens computed in the step itself: its
 * output may still be discarded (asynchronous scheduling), and a block written by a synchronous
 * load in the step may yet be reported failed, by this connector or, inside a multi connector, by a
 * sibling that loaded it (which this connector cannot know). The rest is planned in a later step,
 * or at {@link #requestFinished} from {@code numComputedTokens()}. The GPU block ids are read from
 * the request's block table during the hook ({@code RequestView.blockId}), and the blocks a store
 * reads are {@code touch}ed before the hook returns and freed when every worker reported it, so a
 * request that finishes, is aborted or preempted cannot have them reallocated under a pending copy;
 * preempted requests are also fenced on the workers. References the engine took back meanwhile are
 * not freed again ({@link GPUBlockPoolView#referenceGeneration}). Blocks loaded from the tier are
 * never stored again, and a request whose load failed stores nothing more (its later KV may derive
 * from bad content).
 *
 * <p><b>Loads.</b> {@link #getNumNewMatchedTokens} offers the longest run of ready keys after the
 * local hit and pins them (a repeated call first releases the previous pins); {@link
 * #updateStateAfterAlloc}, told the same local hit, turns the pins into a load job into the blocks
 * after it, released when every worker reported it.
 */
final class OffloadScheduler implements SchedulerConnector {
    private static final int MAX_TRACKED_LOOKUPS = 64_000;

    private final OffloadConfig config;
    private final int blockSize;
    /** Engine blocks per offloaded block ({@code block_multiple}). */
    private final int multiple;

    private final long allRanks;
    /** Bytes of one engine block across all workers. */
    private final long bytesPerBlock;

    private final HostTier tier;
    private final LookupCounter lookups = new LookupCounter(MAX_TRACKED_LOOKUPS);
    private GPUBlockPoolView pool;

    private final Map<String, Req> requests = new HashMap<>();
    private final Map<Long, Job> jobs = new LinkedHashMap<>();
    private long nextJobId = 1;

    private final List<OffloadMetadata.StoreJob> pendingStores = new ArrayList<>();
    private final List<OffloadMetadata.LoadJob> pendingLoads = new ArrayList<>();
    private final List<KvEvent> events = new ArrayList<>();
    private final StatsCounter stats = new StatsCounter();

    /** The stores {@link #planStores} plans for one request, and the tier entries they evicted. */
    private static final class StoreBatch {
        final List<BlockHash> keys = new ArrayList<>();
        final List<BlockHash> parents = new ArrayList<>();
        final List<BlockHash> evicted = new ArrayList<>();
        final int[] gpu;
        final int[] slots;

        StoreBatch(int maxCopies) {
            gpu = new int[maxCopies];
            slots = new int[maxCopies];
        }
    }

    /** Per-request state. */
    private static final class Req {
        /** Offloaded blocks below this index were considered for storing. */
        int nextStore;
        /** Blocks [loadFrom, loadTo) were loaded from the tier: never stored from this request. */
        int loadFrom;

        int loadTo;
        /**
         * Keys pinned by the last match, one per offloaded block from the one holding the first
         * block after its local hit, not yet turned into a load.
         */
        List<BlockHash> matchPins = List.of();
        /** External tokens the last match offered. */
        int matchTokens;

        boolean lookupsCounted;
        /** Set when a load of this request failed: nothing more is stored from it. */
        boolean storesDisabled;

        int jobsInFlight;
    }

    /** A copy job in flight. */
    private static final class Job {
        final long id;
        final boolean store;
        final String requestId;
        final List<BlockHash> keys;
        /** Engine blocks copied. */
        final int engineBlocks;
        /** For stores: the parent hash of each key (null for a prefix's first block). */
        final List<BlockHash> parents;
        /** For stores: the touched GPU blocks. */
        final int[] gpuBlocks;
        /** For stores: the engine's {@link GPUBlockPoolView#referenceGeneration} when they were taken. */
        final long referenceGeneration;

        long okRanks;
        long failedRanks;
        boolean poisoned;

        Job(
                long id,
                boolean store,
                String requestId,
                List<BlockHash> keys,
                int engineBlocks,
                List<BlockHash> parents,
                int[] gpuBlocks,
                long referenceGeneration) {
            this.id = id;
            this.store = store;
            this.requestId = requestId;
            this.keys = keys;
            this.engineBlocks = engineBlocks;
            this.parents = parents;
            this.gpuBlocks = gpuBlocks;
            this.referenceGeneration = referenceGeneration;
        }
    }

    OffloadScheduler(OffloadConfig config, int slots, EngineInfo engine) {
        this(config, new HostTier(slots, EvictionPolicy.create(config.eviction(), slots)), engine);
    }

    /** With {@code tier} as the table of the host tier (the module's tests pass a broken one). */
    OffloadScheduler(OffloadConfig config, HostTier tier, EngineInfo engine) {
        this.config = config;
        this.blockSize = engine.blockSize();
        this.multiple = config.blockMultiple();
        int tp = engine.tensorParallelSize();
        this.allRanks = tp == 64 ? -1L : (1L << tp) - 1;
        this.bytesPerBlock = OffloadConfig.bytesPerBlockAllWorkers(engine);
        this.tier = tier;
    }

    // ------------------------------------------------------------------ hooks

    @Override
    public void bindSchedulerState(SchedulerState state) {
        if (state.blockSize() != blockSize) {
            throw new IllegalStateException(
                    "scheduler block size " + state.blockSize() + " differs from the engine's " + blockSize);
        }
        this.pool = state.gpuBlockPool();
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        Req q = requests.computeIfAbsent(request.requestId(), id -> new Req());
        releaseMatchPins(q);
        int numHashes = request.numBlockHashes();
        if (!q.lookupsCounted && config.storeThreshold() > 0) {
            for (int i = 0; i < numHashes; i++) {
                lookups.record(request.blockHash(i));
            }
        }
        q.lookupsCounted = true;
        count("lookups", 1);
        int local = localHitTokens / blockSize;
        int numGroups = numHashes / multiple;
        int first = local / multiple; // may be partly hit locally: its other blocks load from the tier
        int g = first;
        while (g < numGroups && tier.isReady(key(request, g))) {
            g++;
        }
        for (int i = g; i > first; i--) {
            tier.touch(key(request, i - 1)); // reverse, so the prefix's first block is most recent
        }
        if (g < numGroups) {
            tier.touch(key(request, g)); // a ghost hit adapts ARC
        }
        // The engine recomputes at least the last prompt token.
        int tokens = Math.min((g * multiple - local) * blockSize, request.numTokens() - 1 - localHitTokens);
        if (tokens <= 0) {
            return MatchResult.none();
        }
        int blocks = Math.ceilDiv(tokens, blockSize);
        int lastGroup = (local + blocks - 1) / multiple;
        List<BlockHash> pins = new ArrayList<>(lastGroup - first + 1);
        for (int i = first; i <= lastGroup; i++) {
            BlockHash key = key(request, i);
            tier.pin(key);
            pins.add(key);
        }
        q.matchPins = pins;
        q.matchTokens = tokens;
        return config.load() == OffloadConfig.LoadMode.ASYNC ? MatchResult.async(tokens) : MatchResult.sync(tokens);
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        Req q = requests.computeIfAbsent(request.requestId(), id -> new Req());
        if (externalTokens == 0) {
            releaseMatchPins(q);
            return;
        }
        int n = Math.ceilDiv(externalTokens, blockSize);
        // The same local hit the match was given: its pins start at this block's offloaded block.
        int first = localHitTokens / blockSize;
        int groups = n == 0 ? 0 : (first + n - 1) / multiple - first / multiple + 1;
        boolean async = config.load() == OffloadConfig.LoadMode.ASYNC;
        long id = nextJobId++;
        if (externalTokens > q.matchTokens || groups > q.matchPins.size() || blocks.size() < first + n) {
            // Nothing pinned covers this load. An asynchronous load must still be reported, so the
            // workers report every block as failed; a synchronous one fails the request here.
            String why = "updateStateAfterAlloc(" + request.requestId() + "): " + externalTokens
                    + " external tokens, but the last match pinned " + q.matchTokens + " in " + q.matchPins.size()
                    + " offloaded block(s) and the request owns " + blocks.size() + " block(s)";
            releaseMatchPins(q);
            if (!async) {
                throw new IllegalStateException(why);
            }
            int[] gpu = Arrays.copyOfRange(
                    blocks.toArray(0), Math.min(first, blocks.size()), Math.min(first + n, blocks.size()));
            pendingLoads.add(
                    new OffloadMetadata.LoadJob(id, request.requestId(), true, new int[gpu.length], gpu, true));
            jobs.put(id, new Job(id, false, request.requestId(), List.of(), 0, List.of(), new int[0], 0));
            q.jobsInFlight++;
            q.storesDisabled = true;
            return;
        }
        List<BlockHash> keys = new ArrayList<>(q.matchPins.subList(0, groups));
        for (BlockHash extra : q.matchPins.subList(groups, q.matchPins.size())) {
            tier.unpin(extra);
        }
        q.matchPins = List.of();
        int[] slots = new int[n];
        int[] gpu = new int[n];
        int firstGroup = first / multiple;
        for (int i = 0; i < n; i++) {
            int b = first + i;
            slots[i] = tier.slot(keys.get(b / multiple - firstGroup)) * multiple + b % multiple;
            gpu[i] = blocks.get(b);
        }
        pendingLoads.add(new OffloadMetadata.LoadJob(id, request.requestId(), async, slots, gpu, false));
        jobs.put(id, new Job(id, false, request.requestId(), keys, n, List.of(), new int[0], 0));
        q.jobsInFlight++;
        q.loadFrom = first;
        q.loadTo = first + n;
        count("hit_blocks", n);
        count("hit_tokens", externalTokens);
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        Set<String> fence = new LinkedHashSet<>();
        for (String id : output.preemptedRequestIds()) {
            Req q = requests.get(id);
            if (q != null) {
                q.nextStore = 0;
                q.loadFrom = 0;
                q.loadTo = 0;
                if (q.jobsInFlight > 0) {
                    fence.add(id);
                }
            }
        }
        List<OffloadMetadata.StoreJob> stores = new ArrayList<>(pendingStores);
        pendingStores.clear();
        // By index: the list would build an entry object per scheduled request and step.
        for (int i = 0, n = output.numScheduledRequests(); i < n; i++) {
            RequestView r = output.requestAt(i);
            Req q = requests.computeIfAbsent(r.requestId(), id -> new Req());
            if (output.kindAt(i) == ScheduledRequest.Kind.RESUMED) {
                // Recomputed from scratch after a preemption: everything may be stored again.
                q.nextStore = 0;
                q.storesDisabled = false;
            }
            // Only KV-confirmed tokens: a step's output may still be discarded (asynchronous
            // scheduling), and a block a synchronous load wrote in this step may yet be reported
            // failed, by this connector or, inside a multi connector, by a sibling that loaded it.
            int computedBlocks = r.numComputedTokens() / blockSize;
            planStores(q, r, Math.min(computedBlocks, Math.min(r.numBlockHashes(), r.numBlocks())), stores);
        }
        List<OffloadMetadata.LoadJob> loads = new ArrayList<>(pendingLoads);
        pendingLoads.clear();
        if (stores.isEmpty() && loads.isEmpty() && fence.isEmpty()) {
            return ConnectorMetadata.NONE;
        }
        return new OffloadMetadata(output.step(), stores, loads, fence);
    }

    /**
     * Plans stores of the offloaded blocks from {@code q.nextStore} up to the one ending at or before
     * engine block {@code limit}, read from the request's block table now ({@code r}, the view the
     * current hook was given: its block ids are valid during the hook only, and the stores touch
     * the blocks they read before it returns).
     */
    private void planStores(Req q, RequestView r, int limit, List<OffloadMetadata.StoreJob> out) {
        int limitGroups = limit / multiple;
        if (q.storesDisabled || q.nextStore >= limitGroups) {
            q.nextStore = Math.max(q.nextStore, q.storesDisabled ? limitGroups : q.nextStore);
            return;
        }
        // Made when the first block is to be stored: most calls store nothing (the block is in the
        // tier already, or below the store threshold), and a decode step calls this for every
        // request whose block filled.
        StoreBatch batch = null;
        int copies = 0;
        int g = q.nextStore;
        for (; g < limitGroups; g++) {
            int from = g * multiple;
            if (from < q.loadTo && from + multiple > q.loadFrom) {
                continue; // loaded from the tier, so held there
            }
            BlockHash key = key(r, g);
            if (tier.contains(key)) {
                if (tier.isReady(key)) {
                    // Used again (typically held by the GPU prefix cache, so never looked up here):
                    // as recent as a hit, or the tier would evict what the GPU is about to drop.
                    tier.touch(key);
                }
                continue;
            }
            if (config.storeThreshold() > 0 && lookups.count(key) < config.storeThreshold()) {
                count("below_store_threshold", 1);
                continue;
            }
            if (copies + multiple > pool.availableReferences()) {
                // The engine caps the GPU block references a connector holds: the blocks of the
                // stores in flight already hold enough. Try again next step, as for no space.
                count("store_deferred_references", 1);
                break;
            }
            if (batch == null) {
                batch = new StoreBatch((limitGroups - g) * multiple);
            }
            int slot = tier.beginStore(key, batch.evicted);
            if (slot < 0) {
                count("store_no_space", 1);
                break; // nothing evictable now: try again next step
            }
            batch.keys.add(key);
            batch.parents.add(g == 0 ? null : key(r, g - 1));
            for (int j = 0; j < multiple; j++) {
                batch.gpu[copies] = r.blockId(from + j);
                batch.slots[copies++] = slot * multiple + j;
            }
        }
        q.nextStore = g;
        if (batch == null) {
            return;
        }
        List<BlockHash> evicted = batch.evicted;
        if (!evicted.isEmpty()) {
            events.add(new KvEvent.BlockRemoved(evicted, 0, StorageMedium.CPU));
            count("evicted_blocks", evicted.size() * multiple);
        }
        List<BlockHash> keys = batch.keys;
        List<BlockHash> parents = batch.parents;
        int[] slots = batch.slots;
        if (keys.isEmpty()) {
            return;
        }
        int[] gpuIds = Arrays.copyOf(batch.gpu, copies);
        // Read before the touch: the references belong to this generation (see releases below).
        long generation = pool.referenceGeneration();
        pool.touch(gpuIds);
        long id = nextJobId++;
        jobs.put(id, new Job(id, true, r.requestId(), keys, copies, parents, gpuIds, generation));
        q.jobsInFlight++;
        out.add(new OffloadMetadata.StoreJob(id, r.requestId(), gpuIds, Arrays.copyOf(slots, copies)));
        count("store_blocks_planned", copies);
    }

    /**
     * The key of offloaded block {@code g}: the chained hash of its last engine block, which names
     * the whole prefix up to and including it.
     */
    private BlockHash key(RequestView r, int g) {
        return r.blockHash(g * multiple + multiple - 1);
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        if (!(output.workerMetadata().orElse(null) instanceof JobReports reports)) {
            return;
        }
        List<Job> done = new ArrayList<>();
        for (Map.Entry<Long, Job> e : jobs.entrySet()) {
            Job job = e.getValue();
            job.okRanks |= reports.ok().getOrDefault(e.getKey(), 0L);
            job.failedRanks |= reports.failed().getOrDefault(e.getKey(), 0L);
            if (((job.okRanks | job.failedRanks) & allRanks) == allRanks) {
                done.add(job);
            }
        }
        // Loads first: a failed load poisons the same request's stores resolved in this output.
        for (Job job : done) {
            if (!job.store) {
                resolveLoad(job);
            }
        }
        for (Job job : done) {
            if (job.store) {
                resolveStore(job);
            }
        }
    }

    private void resolveLoad(Job job) {
        jobs.remove(job.id);
        for (BlockHash key : job.keys) {
            tier.unpin(key);
        }
        Req q = requests.get(job.requestId);
        if (q != null) {
            q.jobsInFlight--;
        }
        if (job.failedRanks != 0) {
            count("load_failures", 1);
            if (q != null) {
                q.storesDisabled = true;
            }
            for (Job other : jobs.values()) {
                if (other.store && other.requestId.equals(job.requestId)) {
                    other.poisoned = true;
                }
            }
        } else {
            count("loaded_blocks", job.engineBlocks);
            count("loaded_bytes", job.engineBlocks * bytesPerBlock);
        }
    }

    private void resolveStore(Job job) {
        jobs.remove(job.id);
        Req q = requests.get(job.requestId);
        if (q != null) {
            q.jobsInFlight--;
        }
        boolean ok = job.failedRanks == 0 && !job.poisoned;
        List<BlockHash> run = new ArrayList<>();
        BlockHash runParent = null;
        for (int i = 0; i < job.keys.size(); i++) {
            BlockHash key = job.keys.get(i);
            tier.completeStore(key, ok);
            if (!ok) {
                continue;
            }
            BlockHash parent = job.parents.get(i);
            if (!run.isEmpty() && !run.getLast().equals(parent)) {
                events.add(new KvEvent.BlockStored(
                        run, Optional.ofNullable(runParent), blockSize * multiple, 0, StorageMedium.CPU));
                run = new ArrayList<>();
            }
            if (run.isEmpty()) {
                runParent = parent;
            }
            run.add(key);
        }
        if (!run.isEmpty()) {
            events.add(new KvEvent.BlockStored(
                    run, Optional.ofNullable(runParent), blockSize * multiple, 0, StorageMedium.CPU));
        }
        if (ok) {
            count("stored_blocks", job.engineBlocks);
            count("stored_bytes", job.engineBlocks * bytesPerBlock);
        } else {
            count("store_failures", 1);
            count("store_blocks_dropped", job.engineBlocks);
        }
        releaseGpuBlocks(job);
    }

    /**
     * Gives back the references a store took on its GPU blocks, unless the engine took them back
     * in the meantime: it does from a connector that made no progress for its connector timeout
     * while nothing else ran (a worker that lost a step's orders), and the blocks may since be
     * held again by a later store ({@link GPUBlockPoolView#referenceGeneration}). Called once per store job, when it
     * ends or at shutdown.
     */
    private void releaseGpuBlocks(Job job) {
        if (!pool.freeIfNotTakenBack(job.referenceGeneration, job.gpuBlocks)) {
            count("references_taken_back", job.gpuBlocks.length);
        }
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        Req q = requests.remove(request.requestId());
        if (q == null) {
            return FinishResult.freeNow();
        }
        releaseMatchPins(q);
        // The last blocks: KV-confirmed, hash known, not planned yet (their hash was unknown when
        // they were computed). Touched now, before the engine frees the request's blocks.
        int limit = Math.min(
                request.numComputedTokens() / blockSize, Math.min(request.numBlockHashes(), request.numBlocks()));
        planStores(q, request, limit, pendingStores);
        return FinishResult.freeNow();
    }

    @Override
    public List<KvEvent> takeEvents() {
        if (events.isEmpty()) {
            return List.of();
        }
        List<KvEvent> out = List.copyOf(events);
        events.clear();
        return out;
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        return stats.take();
    }

    /**
     * Empties the tier. Refused ({@link ResetResult#FAILED}, try again) while a copy is in flight
     * or a match holds pins, because those blocks are still being written or about to be read.
     */
    @Override
    public ResetResult resetCache() {
        if (!jobs.isEmpty() || !pendingStores.isEmpty() || !pendingLoads.isEmpty() || tier.busy()) {
            return ResetResult.FAILED;
        }
        tier.clear();
        lookups.clear();
        for (Req q : requests.values()) {
            q.nextStore = 0;
        }
        events.add(new KvEvent.AllBlocksCleared(StorageMedium.CPU));
        return ResetResult.RESET;
    }

    @Override
    public boolean hasPendingWork() {
        return !jobs.isEmpty() || !pendingStores.isEmpty() || !pendingLoads.isEmpty();
    }

    @Override
    public void shutdown() {
        // The engine shuts the workers down, then returns what is still held; give back our
        // touches ourselves so that an orderly shutdown reports no leak.
        if (pool == null) {
            return;
        }
        for (Job job : List.copyOf(jobs.values())) {
            if (job.store) {
                releaseGpuBlocks(job); // not what the engine took back, which a later store may hold
            }
            jobs.remove(job.id);
        }
        pendingStores.clear();
        pendingLoads.clear();
    }

    // ------------------------------------------------------------------ helpers

    private void releaseMatchPins(Req q) {
        for (BlockHash key : q.matchPins) {
            tier.unpin(key);
        }
        q.matchPins = List.of();
        q.matchTokens = 0;
    }

    private void count(String name, long delta) {
        stats.add(name, delta);
    }

    // ------------------------------------------------------------------ for tests

    HostTier tier() {
        return tier;
    }
}
