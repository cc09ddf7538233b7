package io.kvconnect.disk;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorConfig;
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
import java.lang.System.Logger.Level;
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
 * The scheduler side of the disk connector. Scheduler thread only.
 *
 * <p><b>Start.</b> {@link #open} locks the namespace folder and lists the rank folders: a block with
 * a good-sized file on every rank is in the index at once (warm start); files of other blocks are
 * deleted in the first step.
 *
 * <p><b>Stores.</b> In {@link #buildConnectorMetadata} each scheduled request's full blocks of
 * KV-confirmed tokens ({@code numComputedTokens()}) with a known hash that the index does not hold
 * are given to the workers, keyed by their chained block hash. The GPU blocks a store reads are
 * {@code touch}ed before the hook returns and freed once every worker reported that its GPU read
 * ended (the copy into its staging buffer; the file is written from there), or that the store was
 * dropped or failed, so a finished, aborted or preempted request's blocks are never reallocated
 * under a pending read, and a slow disk holds no GPU block. A block is offered only once every worker wrote it;
 * a store any worker failed or dropped is forgotten and its files deleted. Blocks loaded from the
 * tier are never stored again, and a request whose load failed stores nothing more.
 *
 * <p><b>Loads.</b> {@link #getNumNewMatchedTokens} offers the longest run of ready keys after the
 * local hit and pins them (a repeated call first releases the previous pins); {@link
 * #updateStateAfterAlloc} turns the pins into a load job into the blocks after the local hit,
 * released when every worker reported it. Pinned keys are never evicted or deleted, so no file is
 * deleted or rewritten while a load reads it. A block a worker found missing or corrupt is
 * forgotten (when its last pin goes) and its files deleted.
 *
 * <p><b>Events.</b> {@code BlockStored} (medium {@code DISK}, with the parent hash and block size)
 * when every worker wrote a run of blocks, {@code BlockRemoved} when blocks are evicted or found
 * bad, {@code AllBlocksCleared} at a reset. Blocks found at start are not announced: the scan reads
 * no headers, so their parents are unknown.
 */
final class DiskScheduler implements SchedulerConnector {
    private static final System.Logger LOG = System.getLogger(DiskScheduler.class.getName());

    private final DiskConfig config;
    private final int blockSize;
    private final long allRanks;
    /** Bytes of one block across all workers (payload, without headers). */
    private final long bytesPerBlock;

    private final DiskIndex index;
    private final DiskDirectory directory;
    private GPUBlockPoolView pool;

    private final Map<String, Req> requests = new HashMap<>();
    private final Map<Long, Job> jobs = new LinkedHashMap<>();
    private long nextJobId = 1;
    private boolean shutDown;

    private final List<DiskMetadata.StoreJob> pendingStores = new ArrayList<>();
    private final List<DiskMetadata.LoadJob> pendingLoads = new ArrayList<>();
    private final List<KvEvent> events = new ArrayList<>();
    private final StatsCounter stats = new StatsCounter();

    /** The stores {@link #planStores} plans for one request. */
    private static final class StoreBatch {
        final List<BlockHash> keys = new ArrayList<>();
        final List<Optional<BlockHash>> parents = new ArrayList<>();
        final int[] gpu;

        StoreBatch(int maxCopies) {
            gpu = new int[maxCopies];
        }
    }

    /** Per-request state. */
    private static final class Req {
        /** Blocks below this index were considered for storing. */
        int nextStore;
        /** Blocks [loadFrom, loadTo) were loaded from the tier: never stored from this request. */
        int loadFrom;

        int loadTo;
        /** Keys pinned by the last match, from the first block after the local hit. */
        List<BlockHash> matchPins = List.of();
        /** External tokens the last match offered. */
        int matchTokens;
        /** Set when a load of this request failed: nothing more is stored from it. */
        boolean storesDisabled;

        int jobsInFlight;
    }

    /** A job in flight. */
    private record Job(
            long id,
            boolean store,
            String requestId,
            List<BlockHash> keys,
            List<Optional<BlockHash>> parents,
            int[] gpuBlocks,
            long referenceGeneration,
            long[] ranks) {
        // ranks[0]: ranks that succeeded; ranks[1]: ranks that failed; ranks[2]: 1 if poisoned;
        // ranks[3]: ranks whose GPU read ended; ranks[4]: 1 once the GPU blocks were given back
    }

    private DiskScheduler(DiskConfig config, long capacityBlocks, EngineInfo engine, DiskDirectory directory) {
        this.config = config;
        this.blockSize = engine.blockSize();
        int tp = engine.tensorParallelSize();
        this.allRanks = tp == 64 ? -1L : (1L << tp) - 1;
        this.bytesPerBlock = BlockFileFormat.payloadBytes(engine) * tp;
        this.index = new DiskIndex(capacityBlocks);
        this.directory = directory;
    }

    /**
     * Locks the namespace folder and builds the index from what is on disk.
     *
     * @throws io.kvconnect.api.common.ConfigException if the capacity holds no block, the folder
     *     cannot be created, written or listed, or another engine holds it
     */
    static DiskScheduler open(DiskConfig config, ConnectorConfig raw, EngineInfo engine) {
        long capacity = config.blocks(raw, engine);
        Namespace namespace = Namespace.of(engine);
        DiskDirectory directory = DiskDirectory.lock(config.directory(), namespace, raw);
        try {
            long start = System.nanoTime();
            DiskDirectory.Found found = DiskDirectory.scan(config.directory(), namespace, engine, raw);
            DiskScheduler scheduler = new DiskScheduler(config, capacity, engine, directory);
            for (BlockHash key : found.complete()) {
                scheduler.index.addFound(key);
            }
            scheduler.stats.add("warm_blocks", scheduler.index.size());
            // Partial blocks, and blocks beyond the capacity, go in the first step's deletes.
            List<BlockHash> stray = new ArrayList<>(found.partial());
            scheduler.strayDeletes.addAll(stray);
            LOG.log(
                    Level.INFO,
                    "disk: {0} block(s) of earlier runs found in {1} ({2} ms), {3} incomplete file set(s) to delete",
                    scheduler.index.size(),
                    namespace.folder(config.directory()),
                    (System.nanoTime() - start) / 1_000_000,
                    stray.size());
            return scheduler;
        } catch (RuntimeException e) {
            directory.close();
            throw e;
        }
    }

    private final List<BlockHash> strayDeletes = new ArrayList<>();

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
        count("lookups", 1);
        int first = localHitTokens / blockSize;
        int g = first;
        while (g < numHashes && index.isReady(request.blockHash(g))) {
            g++;
        }
        for (int i = g; i > first; i--) {
            index.touch(request.blockHash(i - 1)); // reverse, so the prefix's first block is most recent
        }
        // The engine recomputes at least the last prompt token.
        int tokens = Math.min((g - first) * blockSize, request.numTokens() - 1 - localHitTokens);
        if (tokens <= 0) {
            count("lookup_misses", 1);
            return MatchResult.none();
        }
        int blocks = Math.ceilDiv(tokens, blockSize);
        List<BlockHash> pins = new ArrayList<>(blocks);
        for (int i = first; i < first + blocks; i++) {
            BlockHash key = request.blockHash(i);
            index.pin(key);
            pins.add(key);
        }
        q.matchPins = pins;
        q.matchTokens = tokens;
        return config.load() == DiskConfig.LoadMode.ASYNC ? MatchResult.async(tokens) : MatchResult.sync(tokens);
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        Req q = requests.computeIfAbsent(request.requestId(), id -> new Req());
        if (externalTokens == 0) {
            releaseMatchPins(q);
            return;
        }
        int n = Math.ceilDiv(externalTokens, blockSize);
        int first = localHitTokens / blockSize;
        boolean async = config.load() == DiskConfig.LoadMode.ASYNC;
        long id = nextJobId++;
        if (externalTokens > q.matchTokens || n > q.matchPins.size() || blocks.size() < first + n) {
            // Nothing pinned covers this load. An asynchronous load must still be reported, so the
            // workers report every block as failed; a synchronous one fails the request here.
            String why = "updateStateAfterAlloc(" + request.requestId() + "): " + externalTokens
                    + " external tokens, but the last match pinned " + q.matchTokens + " in " + q.matchPins.size()
                    + " block(s) and the request owns " + blocks.size() + " block(s)";
            releaseMatchPins(q);
            if (!async) {
                throw new IllegalStateException(why);
            }
            int[] gpu = Arrays.copyOfRange(
                    blocks.toArray(0), Math.min(first, blocks.size()), Math.min(first + n, blocks.size()));
            pendingLoads.add(new DiskMetadata.LoadJob(id, request.requestId(), true, List.of(), gpu, true));
            jobs.put(id, new Job(id, false, request.requestId(), List.of(), List.of(), new int[0], 0, new long[5]));
            q.jobsInFlight++;
            q.storesDisabled = true;
            return;
        }
        List<BlockHash> keys = new ArrayList<>(q.matchPins.subList(0, n));
        for (BlockHash extra : q.matchPins.subList(n, q.matchPins.size())) {
            index.unpin(extra);
        }
        q.matchPins = List.of();
        q.matchTokens = 0;
        int[] gpu = new int[n];
        for (int i = 0; i < n; i++) {
            gpu[i] = blocks.get(first + i);
        }
        pendingLoads.add(new DiskMetadata.LoadJob(id, request.requestId(), async, keys, gpu, false));
        jobs.put(id, new Job(id, false, request.requestId(), keys, List.of(), new int[0], 0, new long[5]));
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
        List<DiskMetadata.StoreJob> stores = new ArrayList<>(pendingStores);
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
            int computed = r.numComputedTokens() / blockSize;
            planStores(q, r, Math.min(computed, Math.min(r.numBlockHashes(), r.numBlocks())), stores);
        }
        List<DiskMetadata.LoadJob> loads = new ArrayList<>(pendingLoads);
        pendingLoads.clear();
        List<BlockHash> deletes = takeDeletes();
        if (stores.isEmpty() && loads.isEmpty() && fence.isEmpty() && deletes.isEmpty()) {
            return ConnectorMetadata.NONE;
        }
        return new DiskMetadata(output.step(), deletes, stores, loads, fence);
    }

    /** The files to delete: stray ones found at start, and keys the index dropped since the last step. */
    private List<BlockHash> takeDeletes() {
        DiskIndex.Removed removed = index.takeRemoved();
        if (removed.isEmpty() && strayDeletes.isEmpty()) {
            return List.of();
        }
        if (!removed.ready().isEmpty()) {
            events.add(new KvEvent.BlockRemoved(removed.ready(), 0, StorageMedium.DISK));
            count("removed_blocks", removed.ready().size());
        }
        List<BlockHash> deletes = new ArrayList<>(strayDeletes);
        strayDeletes.clear();
        deletes.addAll(removed.ready());
        deletes.addAll(removed.unready());
        return deletes;
    }

    /**
     * Plans stores of blocks {@code q.nextStore} up to {@code limit}, read from the request's block
     * table now ({@code r}, the view the current hook was given: its block ids are valid during the
     * hook only, and the stores touch the blocks they read before it returns).
     */
    private void planStores(Req q, RequestView r, int limit, List<DiskMetadata.StoreJob> out) {
        if (q.storesDisabled || q.nextStore >= limit) {
            q.nextStore = Math.max(q.nextStore, q.storesDisabled ? limit : q.nextStore);
            return;
        }
        // Made at the first block to store: most filled blocks are in the tier already.
        StoreBatch batch = null;
        int copies = 0;
        int b = q.nextStore;
        for (; b < limit; b++) {
            if (b < q.loadTo && b >= q.loadFrom) {
                continue; // loaded from the tier, so held there
            }
            BlockHash key = r.blockHash(b);
            if (index.contains(key)) {
                continue;
            }
            if (copies + 1 > pool.availableReferences()) {
                // The engine caps the GPU block references a connector holds: the stores in flight
                // already hold enough. Try again next step.
                count("store_deferred_references", 1);
                break;
            }
            if (!index.beginStore(key)) {
                count("store_no_space", 1);
                break; // everything is being written or loaded: try again next step
            }
            if (batch == null) {
                batch = new StoreBatch(limit - b);
            }
            batch.keys.add(key);
            batch.parents.add(b == 0 ? Optional.empty() : Optional.of(r.blockHash(b - 1)));
            batch.gpu[copies++] = r.blockId(b);
        }
        q.nextStore = b;
        if (batch == null) {
            return;
        }
        List<BlockHash> keys = batch.keys;
        List<Optional<BlockHash>> parents = batch.parents;
        int[] gpuIds = Arrays.copyOf(batch.gpu, copies);
        // Read before the touch: the references belong to this generation (see releases below).
        long generation = pool.referenceGeneration();
        pool.touch(gpuIds);
        long id = nextJobId++;
        jobs.put(id, new Job(id, true, r.requestId(), keys, parents, gpuIds, generation, new long[5]));
        q.jobsInFlight++;
        out.add(new DiskMetadata.StoreJob(id, r.requestId(), keys, gpuIds));
        count("store_blocks_planned", copies);
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        if (!(output.workerMetadata().orElse(null) instanceof JobReports reports)) {
            return;
        }
        List<Job> done = new ArrayList<>();
        for (Map.Entry<Long, Job> e : jobs.entrySet()) {
            Job job = e.getValue();
            job.ranks()[0] |= reports.ok().getOrDefault(e.getKey(), 0L);
            job.ranks()[1] |= reports.failed().getOrDefault(e.getKey(), 0L);
            job.ranks()[3] |= reports.copied().getOrDefault(e.getKey(), 0L);
            if (job.store() && ((job.ranks()[0] | job.ranks()[1] | job.ranks()[3]) & allRanks) == allRanks) {
                // Every rank's GPU read ended: the files are still being written from host memory,
                // but the GPU blocks need not wait for the disk.
                releaseGpuBlocks(job);
            }
            if (((job.ranks()[0] | job.ranks()[1]) & allRanks) == allRanks) {
                done.add(job);
            }
        }
        // Loads first: a failed load poisons the same request's stores resolved in this output.
        for (Job job : done) {
            if (!job.store()) {
                resolveLoad(job);
            }
        }
        for (Job job : done) {
            if (job.store()) {
                resolveStore(job);
            }
        }
        for (BlockHash bad : reports.badBlocks()) {
            index.discard(bad);
            count("bad_blocks", 1);
        }
    }

    private void resolveLoad(Job job) {
        jobs.remove(job.id());
        for (BlockHash key : job.keys()) {
            index.unpin(key);
        }
        Req q = requests.get(job.requestId());
        if (q != null) {
            q.jobsInFlight--;
        }
        if (job.ranks()[1] != 0) {
            count("load_failures", 1);
            if (q != null) {
                q.storesDisabled = true;
            }
            for (Job other : jobs.values()) {
                if (other.store() && other.requestId().equals(job.requestId())) {
                    other.ranks()[2] = 1;
                }
            }
        } else {
            count("loaded_blocks", job.keys().size());
            count("loaded_bytes", job.keys().size() * bytesPerBlock);
        }
    }

    private void resolveStore(Job job) {
        jobs.remove(job.id());
        Req q = requests.get(job.requestId());
        if (q != null) {
            q.jobsInFlight--;
        }
        boolean ok = job.ranks()[1] == 0 && job.ranks()[2] == 0;
        List<BlockHash> run = new ArrayList<>();
        Optional<BlockHash> runParent = Optional.empty();
        for (int i = 0; i < job.keys().size(); i++) {
            BlockHash key = job.keys().get(i);
            index.completeStore(key, ok);
            if (!ok) {
                continue;
            }
            Optional<BlockHash> parent = job.parents().get(i);
            if (!run.isEmpty() && !Optional.of(run.getLast()).equals(parent)) {
                events.add(new KvEvent.BlockStored(run, runParent, blockSize, 0, StorageMedium.DISK));
                run = new ArrayList<>();
            }
            if (run.isEmpty()) {
                runParent = parent;
            }
            run.add(key);
        }
        if (!run.isEmpty()) {
            events.add(new KvEvent.BlockStored(run, runParent, blockSize, 0, StorageMedium.DISK));
        }
        if (ok) {
            count("stored_blocks", job.keys().size());
            count("stored_bytes", job.keys().size() * bytesPerBlock);
        } else {
            count("store_failures", 1);
            count("store_blocks_dropped", job.keys().size());
        }
        releaseGpuBlocks(job);
    }

    /**
     * Gives back the references a store took on its GPU blocks, once (when every rank's GPU read
     * ended, or when the store ends), unless the engine took them back in the meantime: it does
     * from a connector that made no progress for its liveness timeout (a slow disk while the
     * engine is idle), and the blocks may since be held again by a later store ({@link
     * GPUBlockPoolView#referenceGeneration}).
     */
    private void releaseGpuBlocks(Job job) {
        if (job.ranks()[4] != 0) {
            return;
        }
        job.ranks()[4] = 1;
        if (!pool.freeIfNotTakenBack(job.referenceGeneration(), job.gpuBlocks())) {
            count("references_taken_back", job.gpuBlocks().length);
        }
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        Req q = requests.remove(request.requestId());
        if (q == null) {
            return FinishResult.freeNow();
        }
        releaseMatchPins(q);
        // The last blocks: KV-confirmed, hash known, not planned yet. Touched now, before the
        // engine frees the request's blocks.
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
     * Empties the tier: every file is deleted in the next step. Refused ({@link ResetResult#FAILED},
     * try again) while a job is in flight or a match holds pins, because those files are still
     * being written or about to be read.
     */
    @Override
    public ResetResult resetCache() {
        if (!jobs.isEmpty() || !pendingStores.isEmpty() || !pendingLoads.isEmpty() || index.busy()) {
            return ResetResult.FAILED;
        }
        DiskIndex.Removed before = index.takeRemoved();
        index.clear();
        DiskIndex.Removed all = index.takeRemoved();
        strayDeletes.addAll(before.ready());
        strayDeletes.addAll(before.unready());
        strayDeletes.addAll(all.ready());
        for (Req q : requests.values()) {
            q.nextStore = 0;
        }
        events.add(new KvEvent.AllBlocksCleared(StorageMedium.DISK));
        return ResetResult.RESET;
    }

    @Override
    public boolean hasPendingWork() {
        return !jobs.isEmpty() || !pendingStores.isEmpty() || !pendingLoads.isEmpty();
    }

    @Override
    public void shutdown() {
        if (shutDown) {
            return;
        }
        shutDown = true;
        // The engine shuts the workers down, then returns what is still held; give back our
        // touches ourselves so that an orderly shutdown reports no leak.
        if (pool != null) {
            for (Job job : List.copyOf(jobs.values())) {
                if (job.store()) {
                    releaseGpuBlocks(job);
                }
            }
        }
        jobs.clear();
        pendingStores.clear();
        pendingLoads.clear();
        directory.close();
    }

    // ------------------------------------------------------------------ helpers

    private void releaseMatchPins(Req q) {
        for (BlockHash key : q.matchPins) {
            index.unpin(key);
        }
        q.matchPins = List.of();
        q.matchTokens = 0;
    }

    private void count(String name, long delta) {
        stats.add(name, delta);
    }

    // ------------------------------------------------------------------ for tests

    DiskIndex index() {
        return index;
    }
}
