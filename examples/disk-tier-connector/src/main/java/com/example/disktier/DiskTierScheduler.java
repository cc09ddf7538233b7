package com.example.disktier;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The scheduler side of the disk tier: it knows which blocks are on disk ({@link DiskIndex}) and
 * orders the workers to load, store and delete files. It does no file I/O in its hooks (the index
 * is read from the directory once, when the engine creates it); every hook runs on the engine's
 * scheduler thread, one at a time, so plain fields suffice.
 *
 * <p><b>Loads.</b> {@link #getNumNewMatchedTokens} offers the ready blocks that follow the local
 * hit, as a synchronous load, and pins them; {@link #updateStateAfterAlloc} turns the first {@code
 * externalTokens} of them into a load into the external range of the request's block table. The
 * pins end when the load goes into a step's metadata: the workers run a step's loads before any
 * deletion ordered in that step or a later one.
 *
 * <p><b>Stores.</b> {@link #requestFinished} stores the request's full, KV-confirmed blocks the
 * tier does not hold, evicting the least recently used blocks if it must, and delays the free of
 * the request's blocks: the engine keeps them, so no other request can write them, until every
 * worker reported the request in finished sends. The engine counts those reports per worker; the
 * blocks become ready in the step it reports the request, unless a worker reported them failed.
 */
final class DiskTierScheduler implements SchedulerConnector {
    private static final System.Logger LOG = System.getLogger(DiskTierScheduler.class.getName());
    /** The writer of the blocks found on disk when the engine started. */
    private static final String EARLIER_RUN = "";

    private final int blockSize;
    private final DiskIndex index;
    private SchedulerState state;
    /** Per waiting request, the blocks its last lookup offered, pinned until its load is ordered. */
    private final Map<String, List<BlockHash>> matchPins = new HashMap<>();
    /** Per finished request, the blocks its store writes, until the workers report it. */
    private final Map<String, List<BlockHash>> storing = new HashMap<>();
    // The next step's orders, and the pins its loads hold.
    private final List<DiskTierMetadata.Load> loads = new ArrayList<>();
    private final List<BlockHash> loadPins = new ArrayList<>();
    private final List<DiskTierMetadata.Store> stores = new ArrayList<>();
    private final List<BlockHash> evictions = new ArrayList<>();
    private final Map<String, Long> stats = new TreeMap<>();

    private DiskTierScheduler(int blockSize, DiskIndex index) {
        this.blockSize = blockSize;
        this.index = index;
    }

    /**
     * Creates the scheduler side and reads the blocks earlier runs left in the directory: a block
     * whose file every worker has, of the right size, is ready (the newest first, up to the
     * capacity); any other is ordered deleted. Called by the provider on the engine's start-up
     * thread, so the directory listing does not delay a step.
     *
     * @throws UncheckedIOException if the directory cannot be listed
     */
    static DiskTierScheduler open(DiskTierSettings settings, EngineInfo engine) {
        var scheduler = new DiskTierScheduler(engine.blockSize(), new DiskIndex(settings.capacityBlocks()));
        List<Map<BlockHash, FileTime>> ranks = new ArrayList<>();
        Set<BlockHash> seen = new HashSet<>();
        for (int rank = 0; rank < engine.tensorParallelSize(); rank++) {
            Path dir = BlockFiles.rankDirectory(settings.directory(), engine, rank);
            try {
                ranks.add(BlockFiles.list(dir, BlockFiles.fileBytes(engine), seen));
            } catch (IOException e) {
                throw new UncheckedIOException("disk-tier: cannot list " + dir, e);
            }
            seen.addAll(ranks.getLast().keySet());
        }
        List<BlockHash> complete = new ArrayList<>();
        for (BlockHash hash : seen) {
            if (ranks.stream().allMatch(files -> files.containsKey(hash))) {
                complete.add(hash);
            } else {
                scheduler.evictions.add(hash); // a worker's file is missing or of the wrong size
            }
        }
        complete.sort((a, b) -> ranks.getFirst().get(a).compareTo(ranks.getFirst().get(b)));
        for (BlockHash hash : complete) {
            scheduler.index.beginStore(hash, EARLIER_RUN, scheduler.evictions);
            scheduler.index.completeStore(hash, EARLIER_RUN);
        }
        LOG.log(Level.INFO, "disk-tier: {0} block(s) of earlier runs found in {1} (capacity {2} blocks)",
                String.valueOf(scheduler.index.size()), settings.directory(),
                String.valueOf(settings.capacityBlocks()));
        return scheduler;
    }

    @Override
    public void bindSchedulerState(SchedulerState schedulerState) {
        this.state = schedulerState;
    }

    /**
     * Offers the ready blocks after the local hit, up to the first block the tier lacks, as a
     * synchronous load, and pins them (releasing the pins of the request's previous lookup).
     */
    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        releasePins(matchPins.remove(request.requestId()));
        count("lookups", 1);
        int first = localHitTokens / blockSize;
        int end = first;
        while (end < request.numBlockHashes() && index.isReady(request.blockHash(end))) {
            end++;
        }
        if (end == first) {
            return MatchResult.none();
        }
        List<BlockHash> pins = new ArrayList<>(end - first);
        for (int i = first; i < end; i++) {
            pins.add(request.blockHash(i));
            index.pin(request.blockHash(i));
        }
        // Touched last to first, so a prefix's first blocks, which more requests share, are evicted last.
        pins.reversed().forEach(index::touch);
        matchPins.put(request.requestId(), pins);
        // At most the full blocks beyond the local hit; the engine itself trims a hit of the whole prompt.
        return MatchResult.sync((end - first) * blockSize);
    }

    /** Orders the load of the first {@code externalTokens} offered, into the external range of {@code blocks}. */
    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        List<BlockHash> pinned = matchPins.remove(request.requestId());
        List<BlockHash> offered = pinned == null ? List.of() : pinned;
        int first = localHitTokens / blockSize;
        int n = (externalTokens + blockSize - 1) / blockSize;
        if (n > offered.size() || first + n > blocks.size()) {
            releasePins(pinned);
            throw new IllegalStateException("disk-tier: " + request.requestId() + " was granted " + externalTokens
                    + " external tokens into " + blocks.size() + " block(s), but its lookup offered "
                    + offered.size() + " block(s)");
        }
        releasePins(offered.subList(n, offered.size()));
        if (n == 0) {
            return;
        }
        int[] gpu = new int[n];
        for (int i = 0; i < n; i++) {
            gpu[i] = blocks.get(first + i);
        }
        loads.add(new DiskTierMetadata.Load(offered.subList(0, n), BlockIds.of(gpu)));
        loadPins.addAll(offered.subList(0, n));
        count("hit_blocks", n);
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        if (loads.isEmpty() && stores.isEmpty() && evictions.isEmpty()) {
            return ConnectorMetadata.NONE;
        }
        var metadata = new DiskTierMetadata(loads, stores, evictions);
        count("blocks_deleted", evictions.size());
        loads.clear();
        stores.clear();
        evictions.clear();
        // From here on the workers read these files before they delete any.
        releasePins(loadPins);
        loadPins.clear();
        return metadata;
    }

    /**
     * Applies the workers' reports: failed stores and bad files leave the index (and their files
     * are ordered deleted), and the blocks of requests in finished sends become ready. A request
     * the engine no longer knows while its store is pending was given up (no worker reported it
     * within the engine's connector timeout, which then freed its blocks): its blocks are dropped.
     */
    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        if (output.workerMetadata().orElse(null) instanceof DiskTierReport report) {
            for (DiskTierReport.FailedStore failed : report.failedStores()) {
                if (index.abortStore(failed.hash(), failed.requestId())) {
                    evictions.add(failed.hash()); // another worker may have written its file
                    count("store_failures", 1);
                }
            }
            for (BlockHash bad : report.badFiles()) {
                count("bad_files", 1);
                if (index.drop(bad)) {
                    evictions.add(bad);
                }
            }
        }
        for (String requestId : output.finishedSending()) {
            for (BlockHash hash : storing.getOrDefault(requestId, List.of())) {
                if (index.completeStore(hash, requestId)) {
                    count("stored_blocks", 1);
                }
            }
            storing.remove(requestId);
        }
        if (state != null) {
            storing.entrySet().removeIf(e -> {
                if (state.findRequest(e.getKey()).isPresent()) {
                    return false;
                }
                for (BlockHash hash : e.getValue()) {
                    if (index.abortStore(hash, e.getKey())) {
                        evictions.add(hash);
                    }
                }
                count("stores_given_up", 1);
                return true;
            });
        }
    }

    /**
     * Plans the store of {@code request}'s full, KV-confirmed blocks the tier does not hold, and
     * delays the free of its blocks if there is one.
     */
    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        String id = request.requestId();
        releasePins(matchPins.remove(id));
        int full = Math.min(request.numComputedTokens() / blockSize, Math.min(request.numBlockHashes(),
                blockIds.size()));
        List<BlockHash> hashes = new ArrayList<>();
        int[] gpu = new int[full];
        for (int i = 0; i < full; i++) {
            BlockHash hash = request.blockHash(i);
            if (index.contains(hash)) {
                continue; // on disk, being written, or loaded from there
            }
            if (!index.beginStore(hash, id, evictions)) {
                count("store_no_space", 1); // every block is being written or pinned
                break;
            }
            gpu[hashes.size()] = blockIds.get(i);
            hashes.add(hash);
        }
        if (hashes.isEmpty()) {
            return FinishResult.freeNow();
        }
        stores.add(new DiskTierMetadata.Store(id, hashes, BlockIds.of(Arrays.copyOf(gpu, hashes.size()))));
        storing.put(id, hashes);
        return FinishResult.delayFree(TransferParams.empty());
    }

    /**
     * {@return whether deletions wait for the next step's orders} Then the engine steps once more
     * even when idle, so the files of failed stores and bad files go without new traffic.
     */
    @Override
    public boolean hasPendingWork() {
        return !evictions.isEmpty();
    }

    /** {@return the counts since the previous call, then zero; empty when nothing was counted} */
    @Override
    public Optional<ConnectorStats> takeStats() {
        if (stats.isEmpty()) {
            return Optional.empty();
        }
        var taken = new CounterStats(stats);
        stats.clear();
        return Optional.of(taken);
    }

    private void releasePins(List<BlockHash> pins) {
        if (pins == null) {
            return;
        }
        for (BlockHash hash : pins) {
            if (index.unpin(hash)) {
                evictions.add(hash); // its file was found bad while pinned
            }
        }
    }

    private void count(String name, long delta) {
        if (delta != 0) {
            stats.merge(name, delta, Long::sum);
        }
    }

    /** The index, for tests. */
    DiskIndex index() {
        return index;
    }
}
