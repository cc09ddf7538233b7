package io.kvconnect.redis;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.HandshakeMetadata;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The scheduler side of the redis connector. Hooks run on the scheduler thread and never wait for
 * Redis: lookups are sent and answered later.
 *
 * <p><b>Lookups.</b> {@link #getNumNewMatchedTokens} sends one {@code EXISTS} per block after the
 * local hit (every rank's key of a block, one cluster slot) and answers {@link
 * MatchResult#askLater()}; the engine asks again in a later step, and the answer is then the run
 * of blocks present on every rank, loaded asynchronously. A lookup that failed or ran past the
 * timeout is a miss. At most {@code max_in_flight} lookup commands are outstanding; beyond that a
 * request is answered "no hit" at once.
 *
 * <p><b>Loads</b> are planned in {@link #updateStateAfterAlloc} for exactly the external tokens
 * granted. A value can disappear between the lookup and the read (evicted, flushed, restarted):
 * the load then fails on the workers and the engine's load-failure policy applies.
 *
 * <p><b>Stores.</b> In {@link #buildConnectorMetadata} and {@link #requestFinished} each request's
 * KV-confirmed blocks whose hash is known are stored, except those loaded from Redis, those the
 * lookup found there and those this engine stored recently. The GPU blocks a store reads are
 * {@code touch}ed before the hook returns and freed when every worker reported it no longer reads
 * them, so a freed and reallocated block is never read by a pending store; references the engine
 * took back meanwhile are not freed again ({@link GPUBlockPoolView#referenceGeneration}). A store is announced
 * ({@link KvEvent.BlockStored} with medium {@code REMOTE}) once every rank wrote its share, and
 * announced removed ({@link KvEvent.BlockRemoved}) when a later lookup finds it gone.
 */
final class RedisScheduler implements SchedulerConnector {
    /** The medium of this connector's KV events. */
    static final StorageMedium REMOTE = new StorageMedium("REMOTE");

    private static final int RECENT_STORES = 1 << 16;
    private static final long RECENT_NANOS = 30_000_000_000L;

    private final RedisConfig config;
    private final RedisStore store;
    private final int blockSize;
    private final int ranks;
    private final long allRanks;
    private final long bytesPerBlock;
    private final int maxLoadBlocks;
    private final long lookupGuardNanos;
    private final AtomicInteger lookupCommands = new AtomicInteger();

    private Namespace namespace;
    private GPUBlockPoolView pool;

    private final Map<String, Req> requests = new HashMap<>();
    private final Map<Long, Job> jobs = new LinkedHashMap<>();
    private long nextJobId = 1;
    private int storeBlocksInFlight;
    private final List<RedisMetadata.StoreJob> pendingStores = new ArrayList<>();
    private final List<RedisMetadata.LoadJob> pendingLoads = new ArrayList<>();
    private final List<KvEvent> events = new ArrayList<>();
    private final StatsCounter stats = new StatsCounter();
    private final FirstErrors firstErrors = new FirstErrors("scheduler");

    /** Blocks this engine stored (or is storing) lately, with when: not stored again meanwhile. */
    private final LinkedHashMap<BlockHash, Long> recent = new LinkedHashMap<>(1024, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<BlockHash, Long> eldest) {
            return size() > RECENT_STORES;
        }
    };

    /**
     * Blocks this engine announced as stored ({@link KvEvent.BlockStored}) and has not announced
     * removed since, the most recent {@value #RECENT_STORES}. Redis does not tell a client what it
     * evicts (keyspace notifications need server configuration a shared server may not allow), so
     * a lookup that finds one of these missing is where this engine learns it is gone, and says so
     * with a {@link KvEvent.BlockRemoved}. Blocks other engines stored, or announced longer ago,
     * are not tracked: their removals are not reported.
     */
    private final LinkedHashMap<BlockHash, Boolean> announced = new LinkedHashMap<>(1024, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<BlockHash, Boolean> eldest) {
            return size() > RECENT_STORES;
        }
    };

    private record Lookup(int from, List<BlockHash> keys, CompletableFuture<boolean[]> present, long start) {}

    /** The stores {@link #planStores} plans for one request. */
    private static final class StoreBatch {
        final List<BlockHash> keys = new ArrayList<>();
        final List<BlockHash> parents = new ArrayList<>();
        final int[] gpu;

        StoreBatch(int maxCopies) {
            gpu = new int[maxCopies];
        }
    }

    private static final class Req {
        Lookup lookup;
        int offerFrom = -1;
        int offerTokens;
        /** Blocks [presentFrom, presentTo) were in Redis at the last lookup. */
        int presentFrom;

        int presentTo;
        /** Blocks [loadFrom, loadTo) were loaded from Redis. */
        int loadFrom;

        int loadTo;
        int nextStore;
        boolean storesDisabled;
    }

    private static final class Job {
        final long id;
        final boolean store;
        final String requestId;
        final List<BlockHash> keys;
        final List<BlockHash> parents;
        final int[] gpuBlocks;
        /** For stores: the engine's {@link GPUBlockPoolView#referenceGeneration} when they were taken. */
        final long referenceGeneration;

        long released;
        long ok;
        long failed;
        boolean freed;

        Job(
                long id,
                boolean store,
                String requestId,
                List<BlockHash> keys,
                List<BlockHash> parents,
                int[] gpu,
                long referenceGeneration) {
            this.id = id;
            this.store = store;
            this.requestId = requestId;
            this.keys = keys;
            this.parents = parents;
            this.gpuBlocks = gpu;
            this.referenceGeneration = referenceGeneration;
            this.freed = !store;
        }
    }

    RedisScheduler(RedisConfig config, EngineInfo engine, RedisStore store) {
        this.config = config;
        this.store = store;
        this.blockSize = engine.blockSize();
        this.ranks = engine.tensorParallelSize();
        if (ranks > 64) {
            throw new IllegalStateException("the redis connector supports at most 64 workers, the engine has " + ranks);
        }
        this.allRanks = ranks == 64 ? -1L : (1L << ranks) - 1;
        this.bytesPerBlock = (long) ranks
                * engine.blockSize()
                * engine.model().numLayers()
                * engine.model().bytesPerTokenPerLayer(ranks);
        this.maxLoadBlocks = Math.min(config.maxLookupBlocks(), config.stagingBlocks() / 2);
        this.lookupGuardNanos = config.timeout().toNanos() * 2 + 100_000_000L;
    }

    // ------------------------------------------------------------------ hooks

    @Override
    public void bindSchedulerState(SchedulerState state) {
        this.pool = state.gpuBlockPool();
    }

    /** Takes the namespace every worker computed from its KV layout; all ranks must agree. */
    @Override
    public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        Namespace first = null;
        for (HandshakeMetadata m : byRank.values()) {
            if (!(m instanceof Namespace ns)) {
                continue;
            }
            if (first != null && !first.equals(ns)) {
                throw new IllegalStateException(
                        "workers disagree on the KV namespace: " + first.description() + " vs " + ns.description());
            }
            first = ns;
        }
        this.namespace = first;
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        Req q = requests.computeIfAbsent(request.requestId(), id -> new Req());
        q.offerTokens = 0;
        q.offerFrom = -1;
        int local = localHitTokens / blockSize;
        // The engine recomputes at least the last prompt token: no block that holds it is offered.
        int loadable = (request.numTokens() - 1) / blockSize;
        int to = Math.min(Math.min(request.numBlockHashes(), loadable), local + maxLoadBlocks);
        if (namespace == null || to <= local) {
            return MatchResult.none();
        }
        Lookup l = q.lookup;
        if (l == null || l.from != local || l.keys.size() != to - local) {
            if (!store.connected() || lookupCommands.get() + (to - local) > config.maxInFlight()) {
                count(store.connected() ? "lookup_rejected_busy" : "lookup_unavailable", 1);
                q.lookup = null;
                return MatchResult.none();
            }
            q.lookup = startLookup(request, local, to);
            count("lookups", 1);
            return MatchResult.askLater();
        }
        if (!l.present.isDone()) {
            if (System.nanoTime() - l.start > lookupGuardNanos) {
                q.lookup = null; // the command timeout ends it first; this is a second fence
                count("lookup_errors_timeout", 1);
                return MatchResult.none();
            }
            return MatchResult.askLater();
        }
        q.lookup = null;
        boolean[] present;
        try {
            present = l.present.join();
        } catch (CompletionException e) {
            count("lookup_errors_" + firstErrors.note("lookup", e).counter(), 1);
            return MatchResult.none();
        }
        int run = 0;
        while (run < present.length && present[run]) {
            run++;
        }
        List<BlockHash> gone = List.of();
        for (int i = run; i < present.length; i++) {
            if (!present[i]) {
                BlockHash key = l.keys.get(i);
                recent.remove(key); // gone (evicted, flushed): may be stored again
                if (announced.remove(key) != null) {
                    if (gone.isEmpty()) {
                        gone = new ArrayList<>();
                    }
                    gone.add(key);
                }
            }
        }
        if (!gone.isEmpty()) {
            events.add(new KvEvent.BlockRemoved(gone, 0, REMOTE));
            count("removed_blocks", gone.size());
        }
        count("lookup_hit_blocks", run);
        count("lookup_miss_blocks", present.length - run);
        q.presentFrom = local;
        q.presentTo = local + run;
        if (run == 0) {
            return MatchResult.none();
        }
        q.offerFrom = local;
        q.offerTokens = run * blockSize;
        return MatchResult.async(q.offerTokens);
    }

    private Lookup startLookup(RequestView r, int from, int to) {
        List<BlockHash> keys = new ArrayList<>(to - from);
        List<CompletableFuture<Long>> answers = new ArrayList<>(to - from);
        for (int b = from; b < to; b++) {
            BlockHash h = r.blockHash(b);
            keys.add(h);
            byte[][] all = new byte[ranks][];
            for (int rank = 0; rank < ranks; rank++) {
                all[rank] = namespace.key(h, rank);
            }
            lookupCommands.incrementAndGet();
            answers.add(store.exists(all).whenComplete((v, e) -> lookupCommands.decrementAndGet()));
        }
        CompletableFuture<boolean[]> present = CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
                .thenApply(ignored -> {
                    boolean[] out = new boolean[answers.size()];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = answers.get(i).join() == ranks;
                    }
                    return out;
                });
        return new Lookup(from, List.copyOf(keys), present, System.nanoTime());
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        Req q = requests.computeIfAbsent(request.requestId(), id -> new Req());
        if (externalTokens == 0) {
            q.offerTokens = 0;
            return;
        }
        int first = localHitTokens / blockSize;
        int n = Math.ceilDiv(externalTokens, blockSize);
        long id = nextJobId++;
        if (first != q.offerFrom || externalTokens > q.offerTokens || blocks.size() < first + n) {
            // Nothing offered covers this load; it is asynchronous, so it must still be reported:
            // the workers report every block as failed.
            int end = Math.min(first + n, blocks.size());
            int[] gpu = new int[Math.max(0, end - first)];
            for (int i = 0; i < gpu.length; i++) {
                gpu[i] = blocks.get(first + i);
            }
            pendingLoads.add(new RedisMetadata.LoadJob(id, request.requestId(), List.of(), gpu, true));
            jobs.put(id, new Job(id, false, request.requestId(), List.of(), List.of(), new int[0], 0));
            q.storesDisabled = true;
            q.offerTokens = 0;
            return;
        }
        List<BlockHash> keys = new ArrayList<>(n);
        int[] gpu = new int[n];
        for (int i = 0; i < n; i++) {
            keys.add(request.blockHash(first + i));
            gpu[i] = blocks.get(first + i);
        }
        pendingLoads.add(new RedisMetadata.LoadJob(id, request.requestId(), keys, gpu, false));
        jobs.put(id, new Job(id, false, request.requestId(), List.copyOf(keys), List.of(), new int[0], 0));
        q.loadFrom = first;
        q.loadTo = first + n;
        q.offerTokens = 0;
        count("hit_blocks", n);
        count("hit_tokens", externalTokens);
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        for (String id : output.preemptedRequestIds()) {
            Req q = requests.get(id);
            if (q != null) {
                q.nextStore = 0;
                q.loadFrom = q.loadTo = 0;
                q.presentFrom = q.presentTo = 0;
            }
        }
        List<RedisMetadata.StoreJob> stores = new ArrayList<>(pendingStores);
        pendingStores.clear();
        // By index: the list would build an entry object per scheduled request and step.
        for (int i = 0, n = output.numScheduledRequests(); i < n; i++) {
            RequestView r = output.requestAt(i);
            Req q = requests.computeIfAbsent(r.requestId(), id -> new Req());
            if (output.kindAt(i) == ScheduledRequest.Kind.RESUMED) {
                q.nextStore = 0;
                q.storesDisabled = false;
            }
            // Only KV-confirmed tokens: a step's output may still be discarded (asynchronous
            // scheduling), and a block a sibling connector's synchronous load wrote in this step
            // may yet be reported failed.
            int computed = r.numComputedTokens() / blockSize;
            planStores(q, r, Math.min(computed, Math.min(r.numBlockHashes(), r.numBlocks())), stores);
        }
        List<RedisMetadata.LoadJob> loads = new ArrayList<>(pendingLoads);
        pendingLoads.clear();
        if (stores.isEmpty() && loads.isEmpty()) {
            return ConnectorMetadata.NONE;
        }
        return new RedisMetadata(stores, loads);
    }

    /**
     * Plans stores of blocks {@code [q.nextStore, limit)} of {@code r}, read from its block table
     * now (valid during this hook only) and touched before it returns.
     */
    private void planStores(Req q, RequestView r, int limit, List<RedisMetadata.StoreJob> out) {
        if (q.storesDisabled || q.nextStore >= limit) {
            q.nextStore = Math.max(q.nextStore, q.storesDisabled ? limit : q.nextStore);
            return;
        }
        // Made at the first block to store: most filled blocks are in Redis already.
        StoreBatch batch = null;
        int copies = 0;
        long now = System.nanoTime();
        int b = q.nextStore;
        for (; b < limit; b++) {
            if ((b >= q.loadFrom && b < q.loadTo) || (b >= q.presentFrom && b < q.presentTo)) {
                continue; // in Redis already
            }
            BlockHash key = r.blockHash(b);
            Long since = recent.get(key);
            if (since != null && now - since < RECENT_NANOS) {
                continue;
            }
            if (storeBlocksInFlight + copies + 1 > config.maxInFlight()) {
                count("store_deferred_in_flight", 1);
                break; // try again next step
            }
            if (copies + 1 > pool.availableReferences()) {
                // The engine caps the GPU block references a connector holds.
                count("store_deferred_references", 1);
                break;
            }
            if (batch == null) {
                batch = new StoreBatch(limit - b);
            }
            batch.keys.add(key);
            batch.parents.add(b == 0 ? null : r.blockHash(b - 1));
            batch.gpu[copies++] = r.blockId(b);
        }
        q.nextStore = b;
        if (batch == null) {
            return;
        }
        List<BlockHash> keys = batch.keys;
        List<BlockHash> parents = batch.parents;
        int[] ids = Arrays.copyOf(batch.gpu, copies);
        // Read before the touch: the references belong to this generation (see releases below).
        long generation = pool.referenceGeneration();
        pool.touch(ids);
        for (BlockHash key : keys) {
            recent.put(key, now);
        }
        long id = nextJobId++;
        jobs.put(id, new Job(id, true, r.requestId(), List.copyOf(keys), parents, ids, generation));
        storeBlocksInFlight += ids.length;
        out.add(new RedisMetadata.StoreJob(id, keys, ids));
        count("store_blocks_planned", ids.length);
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        if (!(output.workerMetadata().orElse(null) instanceof JobReports reports)) {
            return;
        }
        List<Job> done = new ArrayList<>();
        for (Job job : jobs.values()) {
            job.released |= reports.released().getOrDefault(job.id, 0L);
            job.ok |= reports.ok().getOrDefault(job.id, 0L);
            job.failed |= reports.failed().getOrDefault(job.id, 0L);
            if (!job.freed && (job.released & allRanks) == allRanks) {
                freeGpuBlocks(job);
            }
            if (((job.ok | job.failed) & allRanks) == allRanks) {
                done.add(job);
            }
        }
        for (Job job : done) {
            jobs.remove(job.id);
            if (job.store) {
                resolveStore(job);
            } else {
                resolveLoad(job);
            }
        }
    }

    /**
     * Gives back the references a store took on its GPU blocks, once, unless the engine took them
     * back in the meantime: it does from a connector that made no progress for its connector
     * timeout while nothing else ran, and the blocks may since be held again by a later store
     * ({@link GPUBlockPoolView#referenceGeneration}).
     */
    private void freeGpuBlocks(Job job) {
        job.freed = true;
        if (!pool.freeIfNotTakenBack(job.referenceGeneration, job.gpuBlocks)) {
            count("references_taken_back", job.gpuBlocks.length);
        }
    }

    private void resolveLoad(Job job) {
        Req q = requests.get(job.requestId);
        if (job.failed != 0) {
            count("load_failures", 1);
            if (q != null) {
                q.storesDisabled = true; // its later KV derives from what failed to load
                q.loadFrom = q.loadTo = 0;
            }
        } else {
            count("loaded_blocks", job.keys.size());
            count("loaded_bytes", job.keys.size() * bytesPerBlock);
        }
    }

    private void resolveStore(Job job) {
        if (!job.freed) {
            freeGpuBlocks(job); // every rank reports the release no later than the result
        }
        storeBlocksInFlight -= job.gpuBlocks.length;
        if (job.failed != 0) {
            count("store_failures", 1);
            count("store_blocks_dropped", job.keys.size());
            for (BlockHash key : job.keys) {
                recent.remove(key);
            }
            return;
        }
        count("stored_blocks", job.keys.size());
        count("stored_bytes", job.keys.size() * bytesPerBlock);
        List<BlockHash> run = new ArrayList<>();
        BlockHash runParent = null;
        for (int i = 0; i < job.keys.size(); i++) {
            BlockHash parent = job.parents.get(i);
            if (!run.isEmpty() && !run.getLast().equals(parent)) {
                events.add(stored(run, runParent));
                run = new ArrayList<>();
            }
            if (run.isEmpty()) {
                runParent = parent;
            }
            run.add(job.keys.get(i));
        }
        events.add(stored(run, runParent));
        for (BlockHash key : job.keys) {
            announced.put(key, Boolean.TRUE);
        }
    }

    private KvEvent stored(List<BlockHash> run, BlockHash parent) {
        return new KvEvent.BlockStored(run, Optional.ofNullable(parent), blockSize, 0, REMOTE);
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        Req q = requests.remove(request.requestId());
        if (q == null) {
            return FinishResult.freeNow();
        }
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
     * Not supported: the tier is shared by every engine of the namespace, and one engine's reset
     * must not drop the others' KV. An operator empties it in Redis (see docs/connectors/redis.md).
     */
    @Override
    public ResetResult resetCache() {
        return ResetResult.NOT_SUPPORTED;
    }

    @Override
    public boolean hasPendingWork() {
        return !jobs.isEmpty() || !pendingStores.isEmpty() || !pendingLoads.isEmpty();
    }

    @Override
    public void shutdown() {
        if (pool != null) {
            for (Job job : jobs.values()) {
                if (job.store && !job.freed) {
                    freeGpuBlocks(job); // not what the engine took back, which a later store may hold
                }
            }
        }
        jobs.clear();
        pendingStores.clear();
        pendingLoads.clear();
        store.close();
    }

    private void count(String name, long delta) {
        stats.add(name, delta);
    }
}
