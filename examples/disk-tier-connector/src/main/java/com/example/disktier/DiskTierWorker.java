package com.example.disktier;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * The worker side of the disk tier for one rank: it moves this rank's share of each block between
 * the GPU and the rank's files, through a host buffer. Hooks run on the worker's thread, one at a
 * time; stores and deletions run on one writer thread of its own, in the order they were ordered,
 * and hand their results back through a concurrent queue.
 *
 * <p><b>Loads</b> are synchronous and end within {@link #startLoadKv}: each block's file is read
 * into a slot of the load buffer (a missing, short or corrupt file fails that block), then the
 * slots are copied into the GPU blocks the engine granted. Every block whose read or copy failed is
 * reported in that step's report as an invalid block; a bad file also goes back to the scheduler
 * side, which forgets it.
 *
 * <p><b>Stores</b> run on the writer thread: the GPU blocks are copied into the store buffer, each
 * slot is written to its file, and the request is reported in finished sends, with the blocks
 * that failed, in the next {@link #reportStep}. The engine keeps the finished request's GPU blocks
 * until every worker reported it, so a store never reads a block that was given to another request.
 * Nothing needs fencing at a preemption ({@link #handlePreemptions} is not overridden): loads end
 * within their step, and stores read only finished requests' blocks.
 */
final class DiskTierWorker implements WorkerConnector {
    /** Host-buffer slots per direction: blocks move to and from disk this many at a time. */
    static final int SLOTS = 8;
    private static final System.Logger LOG = System.getLogger(DiskTierWorker.class.getName());

    private final Path root;
    private final EngineInfo engine;
    private final int rank;
    private Path dir;
    private BlockCopyService copies;
    private HostBlockBuffer loadBuffer;
    private HostBlockBuffer storeBuffer;
    private ExecutorService writer;
    private boolean shutDown;

    private DiskTierMetadata bound = DiskTierMetadata.EMPTY;
    // Each bound metadata's loads and orders run once, whichever hooks of the step run.
    private boolean loadsDue;
    private boolean ordersDue;
    /** Stores the writer thread ended, for the next report. */
    private final Queue<StoreDone> storesDone = new ConcurrentLinkedQueue<>();
    // This step's failed loads, for its report.
    private final Set<Integer> invalidBlocks = new LinkedHashSet<>();
    private final Set<BlockHash> badFiles = new LinkedHashSet<>();
    private final Map<String, Long> stats = new TreeMap<>();

    private record StoreDone(String requestId, Set<BlockHash> failed, int written) {
    }

    DiskTierWorker(Path root, EngineInfo engine, int rank) {
        this.root = root;
        this.engine = engine;
        this.rank = rank;
    }

    /**
     * Creates this rank's folder, deletes the temporary files a crashed run left there, allocates
     * the two host buffers and starts the writer thread.
     *
     * @throws IllegalStateException if the layout's block size is not what the files are sized for
     * @throws UncheckedIOException if the folder cannot be prepared
     */
    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copyService) {
        if (layout.bytesPerBlock() != BlockFiles.payloadBytes(engine)) {
            throw new IllegalStateException("disk-tier: a block has " + layout.bytesPerBlock() + " bytes on rank "
                    + rank + ", the files hold " + BlockFiles.payloadBytes(engine));
        }
        dir = BlockFiles.rankDirectory(root, engine, rank);
        try {
            Files.createDirectories(dir);
            BlockFiles.deleteTemporaryFiles(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("disk-tier: cannot prepare " + dir, e);
        }
        copies = copyService;
        loadBuffer = copies.allocateHostBuffer(SLOTS);
        storeBuffer = copies.allocateHostBuffer(SLOTS);
        writer = Executors.newSingleThreadExecutor(task -> Thread.ofPlatform().daemon()
                .name("disk-tier-writer-rank-" + rank).unstarted(task));
    }

    /**
     * Takes the step's orders.
     *
     * @throws IllegalArgumentException if {@code metadata} is neither this connector's nor {@code NONE}
     */
    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        if (metadata instanceof DiskTierMetadata orders) {
            bound = orders;
        } else if (metadata == ConnectorMetadata.NONE) {
            bound = DiskTierMetadata.EMPTY;
        } else {
            throw new IllegalArgumentException("disk-tier expects " + DiskTierMetadata.class.getName()
                    + ", got " + (metadata == null ? "null" : metadata.getClass().getName()));
        }
        loadsDue = true;
        ordersDue = true;
    }

    /** Runs the step's loads to the end, SLOTS blocks at a time. */
    @Override
    public void startLoadKv() {
        if (!loadsDue) {
            return;
        }
        loadsDue = false;
        for (DiskTierMetadata.Load load : bound.loads()) {
            for (int from = 0; from < load.hashes().size(); from += SLOTS) {
                loadChunk(load, from, Math.min(from + SLOTS, load.hashes().size()));
            }
        }
    }

    private void loadChunk(DiskTierMetadata.Load load, int from, int to) {
        int[] gpu = new int[to - from];
        int n = 0;
        for (int i = from; i < to; i++) {
            try {
                BlockFiles.read(dir.resolve(BlockFiles.fileName(load.hashes().get(i))), loadBuffer.slot(n));
                gpu[n++] = load.gpuBlocks().get(i);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "disk-tier rank {0}: {1}; the block is recomputed", rank, e.toString());
                badFiles.add(load.hashes().get(i));
                failLoad(load.gpuBlocks().get(i));
            }
        }
        if (n == 0) {
            return;
        }
        int[] filled = Arrays.copyOf(gpu, n);
        try {
            copies.copyFromHost(loadBuffer, IntStream.range(0, n).toArray(), filled).await();
            count("blocks_read", n);
            count("bytes_read", n * loadBuffer.slotBytes());
        } catch (CopyFailedException | IllegalArgumentException e) {
            for (int block : filled) {
                failLoad(block);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // every later await fails too: those blocks are reported
            for (int block : filled) {
                failLoad(block);
            }
        }
    }

    private void failLoad(int gpuBlock) {
        invalidBlocks.add(gpuBlock);
        count("failed_load_blocks", 1);
    }

    /** Hands the step's deletions, then its stores, to the writer thread (once per step). */
    @Override
    public void waitForSave() {
        submitOrders();
    }

    private void submitOrders() {
        if (!ordersDue) {
            return;
        }
        ordersDue = false;
        List<BlockHash> evictions = bound.evictions();
        if (!evictions.isEmpty()) {
            writer.execute(() -> evictions.forEach(this::delete));
        }
        for (DiskTierMetadata.Store store : bound.stores()) {
            writer.execute(() -> storesDone.add(store(store)));
        }
    }

    /** Writer thread: one store, SLOTS blocks at a time; never throws. */
    private StoreDone store(DiskTierMetadata.Store store) {
        Set<BlockHash> failed = new HashSet<>();
        int written = 0;
        for (int from = 0; from < store.hashes().size(); from += SLOTS) {
            List<BlockHash> hashes = store.hashes().subList(from, Math.min(from + SLOTS, store.hashes().size()));
            int[] gpu = new int[hashes.size()];
            for (int i = 0; i < gpu.length; i++) {
                gpu[i] = store.gpuBlocks().get(from + i);
            }
            try {
                copies.copyToHost(gpu, storeBuffer, IntStream.range(0, gpu.length).toArray()).await();
            } catch (CopyFailedException | RuntimeException e) {
                LOG.log(Level.DEBUG, "disk-tier rank {0}: a copy of {1} failed: {2}", rank, store.requestId(), e);
                failed.addAll(hashes);
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // shutting down: nothing more is written
                failed.addAll(store.hashes().subList(from, store.hashes().size()));
                break;
            }
            for (int i = 0; i < gpu.length; i++) {
                try {
                    BlockFiles.write(dir, hashes.get(i), storeBuffer.slot(i));
                    written++;
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.WARNING, "disk-tier rank {0}: cannot write {1}: {2}", rank, hashes.get(i), e);
                    failed.add(hashes.get(i));
                }
            }
        }
        return new StoreDone(store.requestId(), failed, written);
    }

    /** Writer thread: deletes an evicted block's file, if this rank has one. */
    private void delete(BlockHash hash) {
        try {
            Files.deleteIfExists(dir.resolve(BlockFiles.fileName(hash)));
        } catch (IOException e) {
            LOG.log(Level.WARNING, "disk-tier rank {0}: cannot delete {1}: {2}", rank, hash, e);
        }
    }

    /**
     * The step's report: requests whose stores ended in finished sends, this step's failed loads
     * as invalid blocks, the stats, and failed stores and bad files for the scheduler side.
     */
    @Override
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        submitOrders(); // a step without a forward pass has no waitForSave
        Set<String> sent = new LinkedHashSet<>();
        Set<DiskTierReport.FailedStore> failedStores = new HashSet<>();
        for (StoreDone done; (done = storesDone.poll()) != null;) {
            sent.add(done.requestId());
            for (BlockHash hash : done.failed()) {
                failedStores.add(new DiskTierReport.FailedStore(done.requestId(), hash));
            }
            count("blocks_written", done.written());
            count("bytes_written", done.written() * storeBuffer.slotBytes());
        }
        var report = WorkerStepReport.builder()
                .addFinishedSending(sent)
                .addInvalidBlockIds(invalidBlocks)
                .stats(stats.isEmpty() ? Optional.empty() : Optional.of(new CounterStats(stats)))
                .workerMetadata(failedStores.isEmpty() && badFiles.isEmpty() ? Optional.empty()
                        : Optional.of(new DiskTierReport(failedStores, badFiles)))
                .build();
        invalidBlocks.clear();
        badFiles.clear();
        stats.clear();
        return report;
    }

    @Override
    public void clearConnectorMetadata() {
        bound = DiskTierMetadata.EMPTY;
    }

    /** Lets the writer thread finish what it was given (at most 30 s), then frees the buffers. */
    @Override
    public void shutdown() {
        if (shutDown) {
            return;
        }
        shutDown = true;
        if (writer != null) {
            writer.shutdown();
            try {
                if (!writer.awaitTermination(30, TimeUnit.SECONDS)) {
                    LOG.log(Level.WARNING, "disk-tier rank {0}: stores still running at shutdown", rank);
                    writer.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                writer.shutdownNow();
            }
        }
        for (HostBlockBuffer buffer : new HostBlockBuffer[] {loadBuffer, storeBuffer}) {
            if (buffer != null) {
                buffer.close();
            }
        }
    }

    private void count(String name, long delta) {
        if (delta != 0) {
            stats.merge(name, delta, Long::sum);
        }
    }
}
