package io.kvconnect.disk;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The worker side of the disk connector for one rank. Hooks run on the worker thread, one at a
 * time; file I/O runs on two threads of the worker's own, a writer and a reader, that hand their
 * results back through a concurrent queue and futures.
 *
 * <p><b>Stores.</b> After the step's compute ({@link #waitForSave}, or {@link #reportStep} in a step
 * without a forward pass) each store takes free slots of the store staging buffer ({@code
 * staging_blocks} of them) and starts the GPU-to-host copy; the writer thread awaits it and writes
 * each block's file. A store that finds too few free slots is dropped at once and counted ({@code
 * stores_dropped}): when the disk is slower than the engine, work never piles up without bound.
 * Slots are freed on the worker thread when the writer reported the store.
 *
 * <p><b>Loads.</b> {@link #startLoadKv} hands each load to the reader thread, which reads the files
 * into the load staging buffer and copies them into the granted GPU blocks, up to {@code
 * staging_blocks} at a time. The first block it cannot read (missing, corrupt, or a failed read)
 * ends the load: it and every later block of the load are reported as invalid blocks (the engine
 * recomputes them), and a missing or corrupt file is reported to the scheduler side, which forgets
 * it. Synchronous loads are awaited before layer 0; asynchronous ones are reported in finished
 * receives once done.
 *
 * <p>Every finished job, successful or not, goes back in the worker metadata of {@link
 * #reportStep}. Deletions run on the writer thread before the same step's stores.
 */
final class DiskWorker implements WorkerConnector {
    private static final System.Logger LOG = System.getLogger(DiskWorker.class.getName());
    private static final long SHUTDOWN_WAIT_SECONDS = 30;

    private final DiskConfig config;
    private final EngineInfo engine;
    private final int rank;
    private final BlockStoreFactory storeFactory;

    private BlockStore files;
    private BlockCopyService copies;
    private HostBlockBuffer storeBuffer;
    private HostBlockBuffer loadBuffer;
    private ExecutorService writer;
    private ExecutorService reader;
    private boolean shutDown;

    private DiskMetadata bound = DiskMetadata.EMPTY;
    private final Set<Long> startedStores = new HashSet<>();
    private boolean deletesDue;
    private boolean loadsDue;

    /** Free slots of the store buffer; worker thread only. */
    private final ArrayDeque<Integer> freeStoreSlots = new ArrayDeque<>();

    private record Store(long job, String requestId, CopyTicket ticket, int[] slots) {}

    /** Stores whose write is not reported yet, by job. */
    private final Map<Long, Store> stores = new LinkedHashMap<>();
    /** Written by the writer thread, read by the worker thread. */
    private final Queue<WriteResult> written = new ConcurrentLinkedQueue<>();
    /** Stores whose GPU read ended; written by the writer thread, read by the worker thread. */
    private final Queue<Long> copiedQueue = new ConcurrentLinkedQueue<>();

    private final Set<Long> copiedJobs = new LinkedHashSet<>();

    private record Load(DiskMetadata.LoadJob job, Future<ReadResult> result) {}

    private final Map<Long, Load> asyncLoads = new LinkedHashMap<>();
    private final List<Load> syncLoads = new ArrayList<>();

    private final Map<Long, Boolean> finishedJobs = new LinkedHashMap<>();
    private final Set<BlockHash> badBlocks = new LinkedHashSet<>();
    private final Set<String> received = new LinkedHashSet<>();
    private final Set<Integer> loadErrors = new LinkedHashSet<>();
    private final StatsCounter stats = new StatsCounter();
    /** Which failures of the writer and reader threads are logged. */
    private final SparseLog sparse = new SparseLog();

    /** What the writer thread did for one store. */
    private record WriteResult(long job, int[] slots, boolean ok, int blocks, long nanos, String error) {}

    /** What the reader thread did for one load: {@code failedFrom} is the first block not loaded. */
    private record ReadResult(int failedFrom, Set<BlockHash> bad, Map<String, Long> counts) {}

    DiskWorker(DiskConfig config, EngineInfo engine, int rank, BlockStoreFactory storeFactory) {
        this.config = config;
        this.engine = engine;
        this.rank = rank;
        this.storeFactory = storeFactory;
    }

    /**
     * Opens this rank's folder, allocates the two staging buffers and starts the writer and reader
     * threads.
     *
     * @throws IllegalStateException if the layout's block is not the size the files are made for
     * @throws UncheckedIOException if the folder cannot be created or written
     */
    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copyService) {
        if (files != null) {
            throw new IllegalStateException("registerKvCaches called twice");
        }
        long payload = BlockFileFormat.payloadBytes(engine);
        if (layout.bytesPerBlock() != payload) {
            throw new IllegalStateException("disk: a block has " + layout.bytesPerBlock() + " bytes on rank " + rank
                    + ", the files are made for " + payload);
        }
        Namespace namespace = Namespace.of(engine);
        var settings = new StoreSettings(
                namespace.rankFolder(config.directory(), rank),
                namespace.id(),
                rank,
                payload,
                config.fsync(),
                config.directIo());
        try {
            files = storeFactory.open(settings);
        } catch (IOException e) {
            throw new UncheckedIOException("disk rank " + rank + ": cannot open " + settings.folder(), e);
        }
        LOG.log(Level.DEBUG, "disk rank {0}: {1} I/O in {2}", rank, files.ioMode(), settings.folder());
        copies = copyService;
        storeBuffer = copies.allocateHostBuffer(config.stagingBlocks());
        loadBuffer = copies.allocateHostBuffer(config.stagingBlocks());
        for (int s = 0; s < config.stagingBlocks(); s++) {
            freeStoreSlots.addLast(s);
        }
        writer = Executors.newSingleThreadExecutor(task ->
                Thread.ofPlatform().daemon().name("disk-writer-rank-" + rank).unstarted(task));
        reader = Executors.newSingleThreadExecutor(task ->
                Thread.ofPlatform().daemon().name("disk-reader-rank-" + rank).unstarted(task));
    }

    @Override
    public void handlePreemptions(ConnectorMetadata metadata) {
        if (!(metadata instanceof DiskMetadata m) || m.fence().isEmpty()) {
            return;
        }
        // The scheduler side holds the GPU blocks of every store in flight, so they cannot be
        // reallocated; the fence makes the GPU reads of preempted requests end before the step anyway.
        for (Store s : stores.values()) {
            if (m.fence().contains(s.requestId())) {
                awaitQuietly(s.ticket());
                count("fenced_stores", 1);
            }
        }
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        bound = metadata instanceof DiskMetadata m ? m : DiskMetadata.EMPTY;
        startedStores.clear();
        deletesDue = true;
        loadsDue = true;
    }

    @Override
    public void startLoadKv() {
        submitDeletes();
        if (!loadsDue) {
            return;
        }
        loadsDue = false;
        for (DiskMetadata.LoadJob load : bound.loads()) {
            if (load.cancelled() || load.gpuBlocks().length == 0) {
                fail(load, 0);
                continue;
            }
            Load l = new Load(load, reader.submit(() -> read(load)));
            if (load.async()) {
                asyncLoads.put(load.id(), l);
            } else {
                syncLoads.add(l);
            }
        }
    }

    @Override
    public void waitForLayerLoad(int layer) {
        awaitSyncLoads();
    }

    @Override
    public void waitForSave() {
        awaitSyncLoads();
        startStores();
    }

    /**
     * Starts the step's stores (in a step without a forward pass), collects the jobs that ended and
     * reports them: finished asynchronous loads, the GPU blocks of failed loads, the stats, and
     * every finished job and bad file in the worker metadata. Nothing is allocated when nothing
     * happened.
     */
    @Override
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        submitDeletes();
        awaitSyncLoads();
        startStores();
        for (Long job; (job = copiedQueue.poll()) != null; ) {
            copiedJobs.add(job);
        }
        for (WriteResult w; (w = written.poll()) != null; ) {
            stores.remove(w.job());
            for (int s : w.slots()) {
                freeStoreSlots.addLast(s);
            }
            finishedJobs.put(w.job(), w.ok());
            count("blocks_written", w.blocks());
            count("bytes_written", w.blocks() * storeBuffer.slotBytes());
            count("nanos_written", w.nanos());
            if (w.error() != null) {
                count(w.error(), 1);
            }
        }
        for (Iterator<Load> it = asyncLoads.values().iterator(); it.hasNext(); ) {
            Load l = it.next();
            if (l.result().isDone()) {
                it.remove();
                loadDone(l);
                received.add(l.job().requestId());
            }
        }
        Optional<ConnectorStats> stepStats = stats.take();
        if (received.isEmpty()
                && loadErrors.isEmpty()
                && finishedJobs.isEmpty()
                && badBlocks.isEmpty()
                && copiedJobs.isEmpty()
                && stepStats.isEmpty()) {
            return WorkerStepReport.EMPTY;
        }
        boolean metadata = !finishedJobs.isEmpty() || !badBlocks.isEmpty() || !copiedJobs.isEmpty();
        WorkerStepReport report = WorkerStepReport.builder()
                .addFinishedReceiving(received)
                .addInvalidBlockIds(loadErrors)
                .stats(stepStats)
                .workerMetadata(
                        metadata
                                ? Optional.of(JobReports.of(rank, finishedJobs, badBlocks, copiedJobs))
                                : Optional.empty())
                .build();
        received.clear();
        loadErrors.clear();
        finishedJobs.clear();
        badBlocks.clear();
        copiedJobs.clear();
        return report;
    }

    @Override
    public void clearConnectorMetadata() {
        bound = DiskMetadata.EMPTY;
        startedStores.clear();
        deletesDue = false;
        loadsDue = false;
    }

    /** Lets the writer and reader finish what they were given (at most 30 s each), then frees everything. */
    @Override
    public void shutdown() {
        if (shutDown) {
            return;
        }
        shutDown = true;
        boolean idle = true;
        for (ExecutorService threads : new ExecutorService[] {writer, reader}) {
            if (threads == null) {
                continue;
            }
            threads.shutdown();
            try {
                if (!threads.awaitTermination(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    LOG.log(Level.WARNING, "disk rank {0}: file I/O still running at shutdown", rank);
                    threads.shutdownNow();
                    idle = false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                threads.shutdownNow();
                idle = false;
            }
        }
        // The buffers must outlive every copy and file operation that uses them.
        for (Store s : stores.values()) {
            awaitQuietly(s.ticket());
        }
        if (!idle) {
            return; // a thread may still touch the buffers: leave them to the engine's shutdown
        }
        stores.clear();
        asyncLoads.clear();
        syncLoads.clear();
        for (HostBlockBuffer b : new HostBlockBuffer[] {storeBuffer, loadBuffer}) {
            if (b != null) {
                b.close();
            }
        }
        if (files != null) {
            files.close();
        }
    }

    // ------------------------------------------------------------------ stores

    private void submitDeletes() {
        if (!deletesDue) {
            return;
        }
        deletesDue = false;
        List<BlockHash> deletes = bound.deletes();
        if (!deletes.isEmpty()) {
            writer.execute(() -> {
                for (BlockHash key : deletes) {
                    try {
                        files.delete(key);
                    } catch (IOException | RuntimeException e) {
                        long n = sparse.due("delete");
                        if (n > 0) {
                            LOG.log(
                                    Level.WARNING,
                                    "disk rank {0}: cannot delete block {1}: {2} (failed delete {3}; logged"
                                            + " at the 1st, 2nd, 4th, 8th ...)",
                                    rank,
                                    key,
                                    e,
                                    n);
                        }
                    }
                }
            });
        }
    }

    /** Starts the bound stores not started yet (each one once). */
    private void startStores() {
        submitDeletes();
        for (DiskMetadata.StoreJob s : bound.stores()) {
            if (!startedStores.add(s.id())) {
                continue;
            }
            int n = s.gpuBlocks().length;
            if (freeStoreSlots.size() < n) {
                // The disk is behind: drop the store rather than queue it without bound.
                finishedJobs.put(s.id(), false);
                count("stores_dropped", 1);
                count("store_blocks_dropped", n);
                continue;
            }
            int[] slots = new int[n];
            for (int i = 0; i < n; i++) {
                slots[i] = freeStoreSlots.pollFirst();
            }
            CopyTicket ticket;
            try {
                ticket = copies.copyToHost(s.gpuBlocks(), storeBuffer, slots);
            } catch (IllegalArgumentException e) {
                for (int slot : slots) {
                    freeStoreSlots.addFirst(slot);
                }
                finishedJobs.put(s.id(), false);
                count("errors_copy", 1);
                continue;
            }
            stores.put(s.id(), new Store(s.id(), s.requestId(), ticket, slots));
            writer.execute(() -> written.add(write(s, ticket, slots)));
        }
    }

    /** Writer thread: awaits the GPU copy, then writes each block's file; never throws. */
    private WriteResult write(DiskMetadata.StoreJob s, CopyTicket ticket, int[] slots) {
        try {
            ticket.await();
        } catch (CopyFailedException e) {
            return new WriteResult(s.id(), slots, false, 0, 0, "errors_copy");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new WriteResult(s.id(), slots, false, 0, 0, "errors_interrupted");
        }
        copiedQueue.add(s.id()); // the GPU blocks are no longer read: the scheduler side may free them
        long start = System.nanoTime();
        for (int i = 0; i < slots.length; i++) {
            try {
                files.write(s.keys().get(i), storeBuffer.slot(slots[i]));
            } catch (IOException | RuntimeException e) {
                long n = sparse.due("write");
                if (n > 0) {
                    // A full disk fails every store of every step: not a line per block.
                    LOG.log(
                            Level.WARNING,
                            "disk rank {0}: cannot write block {1}: {2} (failed write {3}, counted as"
                                    + " errors_write; logged at the 1st, 2nd, 4th, 8th ...)",
                            rank,
                            s.keys().get(i),
                            e,
                            n);
                }
                return new WriteResult(s.id(), slots, false, i, System.nanoTime() - start, "errors_write");
            }
        }
        return new WriteResult(s.id(), slots, true, slots.length, System.nanoTime() - start, null);
    }

    // ------------------------------------------------------------------ loads

    /** Reader thread: reads and copies one load, staging_blocks at a time; never throws. */
    private ReadResult read(DiskMetadata.LoadJob load) {
        Map<String, Long> counts = new LinkedHashMap<>();
        int n = load.keys().size();
        int chunk = loadBuffer.numSlots();
        long readNanos = 0;
        for (int from = 0; from < n; from += chunk) {
            int to = Math.min(from + chunk, n);
            long start = System.nanoTime();
            for (int i = from; i < to; i++) {
                try {
                    files.read(load.keys().get(i), loadBuffer.slot(i - from));
                } catch (BlockReadException | RuntimeException e) {
                    boolean copied = copyChunk(load, from, i, counts);
                    counts.merge("nanos_read", readNanos + System.nanoTime() - start, Long::sum);
                    return new ReadResult(copied ? i : from, checkRest(load, i, e, counts), counts);
                }
            }
            readNanos += System.nanoTime() - start;
            if (!copyChunk(load, from, to, counts)) {
                return new ReadResult(from, Set.of(), counts);
            }
        }
        counts.merge("nanos_read", readNanos, Long::sum);
        return new ReadResult(n, Set.of(), counts);
    }

    /**
     * Reader thread: after block {@code failed} of {@code load} could not be read ({@code why}),
     * checks the load's later files too, so that every bad file of the load is reported (and
     * forgotten) at once; the engine recomputes them all anyway. {@return the missing or corrupt ones}
     */
    private Set<BlockHash> checkRest(DiskMetadata.LoadJob load, int failed, Exception why, Map<String, Long> counts) {
        Set<BlockHash> bad = new HashSet<>();
        for (int j = failed; j < load.keys().size(); j++) {
            BlockHash key = load.keys().get(j);
            Exception e = why;
            if (j > failed) {
                try {
                    files.read(key, loadBuffer.slot(0));
                    continue;
                } catch (BlockReadException | RuntimeException next) {
                    e = next;
                }
            }
            BlockReadException.Kind kind = e instanceof BlockReadException r ? r.kind() : BlockReadException.Kind.IO;
            String counter = "errors_read_" + kind.name().toLowerCase(Locale.ROOT);
            long n = sparse.due(counter);
            if (n > 0) {
                LOG.log(
                        Level.INFO,
                        "disk rank {0}: {1}; the block is recomputed ({2} {3}; logged at the 1st, 2nd,"
                                + " 4th, 8th ...)",
                        rank,
                        e.getMessage(),
                        counter,
                        n);
            }
            counts.merge(counter, 1L, Long::sum);
            if (kind != BlockReadException.Kind.IO) {
                bad.add(key);
            }
        }
        return bad;
    }

    /** Reader thread: copies staged blocks [from, to) of {@code load} into the GPU; false if it failed. */
    private boolean copyChunk(DiskMetadata.LoadJob load, int from, int to, Map<String, Long> counts) {
        if (to <= from) {
            return true;
        }
        int[] slots = new int[to - from];
        int[] gpu = new int[to - from];
        for (int i = from; i < to; i++) {
            slots[i - from] = i - from;
            gpu[i - from] = load.gpuBlocks()[i];
        }
        try {
            copies.copyFromHost(loadBuffer, slots, gpu).await();
            counts.merge("blocks_read", (long) slots.length, Long::sum);
            counts.merge("bytes_read", slots.length * loadBuffer.slotBytes(), Long::sum);
            return true;
        } catch (CopyFailedException | IllegalArgumentException e) {
            counts.merge("errors_copy", 1L, Long::sum);
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            counts.merge("errors_interrupted", 1L, Long::sum);
            return false;
        }
    }

    /** Waits for this step's synchronous loads; failed blocks are load errors of this step. */
    private void awaitSyncLoads() {
        for (Load l : syncLoads) {
            loadDone(l);
        }
        syncLoads.clear();
    }

    private void loadDone(Load l) {
        ReadResult r;
        try {
            r = l.result().get();
        } catch (ExecutionException e) {
            r = new ReadResult(0, Set.of(), Map.of("errors_read_io", 1L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r = new ReadResult(0, Set.of(), Map.of("errors_interrupted", 1L));
        }
        r.counts().forEach(this::count);
        badBlocks.addAll(r.bad());
        int[] gpu = l.job().gpuBlocks();
        boolean ok = r.failedFrom() == gpu.length;
        finishedJobs.put(l.job().id(), ok);
        for (int i = r.failedFrom(); i < gpu.length; i++) {
            loadErrors.add(gpu[i]);
        }
        if (!ok) {
            count("load_failures", 1);
        }
    }

    private void fail(DiskMetadata.LoadJob load, int from) {
        finishedJobs.put(load.id(), false);
        count("load_failures", 1);
        for (int i = from; i < load.gpuBlocks().length; i++) {
            loadErrors.add(load.gpuBlocks()[i]);
        }
        if (load.async()) {
            received.add(load.requestId());
        }
    }

    /** Awaits a copy; true if it succeeded. */
    private static boolean awaitQuietly(CopyTicket ticket) {
        try {
            ticket.await();
            return true;
        } catch (CopyFailedException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !ticket.failed() && ticket.isDone();
        }
    }

    private void count(String name, long delta) {
        if (delta != 0) {
            stats.add(name, delta);
        }
    }
}
