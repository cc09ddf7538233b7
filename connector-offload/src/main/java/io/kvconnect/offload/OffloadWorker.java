package io.kvconnect.offload;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The worker side of the offload connector for one rank. Worker thread only; the copies run on the
 * engine's copy service and are polled here.
 *
 * <p>Host memory is allocated once, in {@link #registerKvCaches}: as many engine-block slots as the scheduler
 * side manages, so slot numbers from the metadata are valid on every rank. Loads start in {@link
 * #startLoadKv}; synchronous ones are awaited before layer 0 is computed, asynchronous ones are
 * reported in finished receives once their copy ended. Stores start after the step's compute
 * ({@link #waitForSave}, or {@link #reportStep} in a step without a forward pass) and are not
 * awaited. Every finished job, successful or not, goes back in the worker metadata of {@link
 * #reportStep}; a failed load's GPU blocks are reported in the same report as its request appears
 * in finished receives (or, for a synchronous load, in its step's report).
 */
final class OffloadWorker implements WorkerConnector {
    private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(30);

    private final int numSlots;
    private final int rank;
    private BlockCopyService copies;
    private HostBlockBuffer buffer;
    private OffloadMetadata bound = OffloadMetadata.EMPTY;
    private final Set<Long> startedStores = new HashSet<>();

    private record Copy(long job, String requestId, CopyTicket ticket, int[] gpuBlocks, int blocks) {}

    private final Map<Long, Copy> stores = new LinkedHashMap<>();
    private final Map<Long, Copy> asyncLoads = new LinkedHashMap<>();
    private final List<Copy> syncLoads = new ArrayList<>();
    private final Map<Long, Boolean> finishedJobs = new LinkedHashMap<>();
    private final Set<String> received = new LinkedHashSet<>();
    private final Set<Integer> loadErrors = new LinkedHashSet<>();
    private final StatsCounter stats = new StatsCounter();
    private boolean shutDown;

    OffloadWorker(int numSlots, int rank) {
        this.numSlots = numSlots;
        this.rank = rank;
    }

    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copyService) {
        if (buffer != null) {
            throw new IllegalStateException("registerKvCaches called twice");
        }
        this.copies = copyService;
        this.buffer = copyService.allocateHostBuffer(numSlots);
    }

    @Override
    public void handlePreemptions(ConnectorMetadata metadata) {
        if (!(metadata instanceof OffloadMetadata m) || m.fence().isEmpty()) {
            return;
        }
        // The scheduler side holds the GPU blocks of every store in flight, so they cannot be
        // reallocated; the fence makes the copies of preempted requests end before the step anyway.
        for (Copy c : stores.values()) {
            if (m.fence().contains(c.requestId())) {
                awaitQuietly(c.ticket());
                count("fenced_stores", 1);
            }
        }
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        bound = metadata instanceof OffloadMetadata m ? m : OffloadMetadata.EMPTY;
        startedStores.clear();
    }

    @Override
    public void startLoadKv() {
        for (OffloadMetadata.LoadJob load : bound.loads()) {
            if (load.cancelled() || load.gpuBlocks().length == 0) {
                fail(load.id(), load.requestId(), load.async(), load.gpuBlocks());
                continue;
            }
            CopyTicket ticket;
            try {
                ticket = copies.copyFromHost(buffer, load.slots(), load.gpuBlocks());
            } catch (IllegalArgumentException e) {
                fail(load.id(), load.requestId(), load.async(), load.gpuBlocks());
                continue;
            }
            Copy c = new Copy(load.id(), load.requestId(), ticket, load.gpuBlocks(), load.gpuBlocks().length);
            if (load.async()) {
                asyncLoads.put(load.id(), c);
            } else {
                syncLoads.add(c);
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
     * Starts the step's stores (in a step without a forward pass), collects the copies that ended
     * and reports them: finished asynchronous loads, the GPU blocks of failed loads, the stats, and
     * every finished job in the worker metadata. Nothing is allocated when nothing happened.
     */
    @Override
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        awaitSyncLoads();
        startStores();
        for (Iterator<Copy> it = stores.values().iterator(); it.hasNext(); ) {
            Copy c = it.next();
            if (c.ticket().isDone()) {
                it.remove();
                boolean ok = !c.ticket().failed();
                finishedJobs.put(c.job(), ok);
                if (ok) {
                    count("blocks_to_host", c.blocks());
                    count("bytes_to_host", c.ticket().bytes());
                    count("nanos_to_host", c.ticket().copyNanos().orElse(0));
                } else {
                    count("store_copy_failures", 1);
                }
            }
        }
        for (Iterator<Copy> it = asyncLoads.values().iterator(); it.hasNext(); ) {
            Copy c = it.next();
            if (c.ticket().isDone()) {
                it.remove();
                loadDone(c, !c.ticket().failed());
                received.add(c.requestId());
            }
        }
        Optional<ConnectorStats> stepStats = stats.take();
        if (received.isEmpty() && loadErrors.isEmpty() && finishedJobs.isEmpty() && stepStats.isEmpty()) {
            return WorkerStepReport.EMPTY; // the usual step: no allocation
        }
        WorkerStepReport report = WorkerStepReport.builder()
                .addFinishedReceiving(received)
                .addInvalidBlockIds(loadErrors)
                .stats(stepStats)
                .workerMetadata(
                        finishedJobs.isEmpty() ? Optional.empty() : Optional.of(JobReports.of(rank, finishedJobs)))
                .build();
        received.clear();
        loadErrors.clear();
        finishedJobs.clear();
        return report;
    }

    @Override
    public void clearConnectorMetadata() {
        bound = OffloadMetadata.EMPTY;
        startedStores.clear();
    }

    @Override
    public void shutdown() {
        if (shutDown) {
            return;
        }
        shutDown = true;
        List<Copy> all = new ArrayList<>(stores.values());
        all.addAll(asyncLoads.values());
        all.addAll(syncLoads);
        for (Copy c : all) {
            // The buffer must outlive every copy that uses it.
            try {
                c.ticket().await(SHUTDOWN_WAIT);
            } catch (CopyFailedException e) {
                // Failed copies are over too.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        stores.clear();
        asyncLoads.clear();
        syncLoads.clear();
        if (buffer != null) {
            buffer.close();
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Starts the bound stores not started yet (each one once). */
    private void startStores() {
        for (OffloadMetadata.StoreJob s : bound.stores()) {
            if (!startedStores.add(s.id())) {
                continue;
            }
            try {
                CopyTicket ticket = copies.copyToHost(s.gpuBlocks(), buffer, s.slots());
                stores.put(s.id(), new Copy(s.id(), s.requestId(), ticket, s.gpuBlocks(), s.gpuBlocks().length));
            } catch (IllegalArgumentException e) {
                finishedJobs.put(s.id(), false);
                count("store_copy_failures", 1);
            }
        }
    }

    /** Waits for this step's synchronous loads; failed blocks are load errors of this step. */
    private void awaitSyncLoads() {
        for (Copy c : syncLoads) {
            loadDone(c, awaitQuietly(c.ticket()));
        }
        syncLoads.clear();
    }

    private void loadDone(Copy c, boolean ok) {
        finishedJobs.put(c.job(), ok);
        if (ok) {
            count("blocks_from_host", c.blocks());
            count("bytes_from_host", c.ticket().bytes());
            count("nanos_from_host", c.ticket().copyNanos().orElse(0));
        } else {
            count("load_copy_failures", 1);
            for (int b : c.gpuBlocks()) {
                loadErrors.add(b);
            }
        }
    }

    private void fail(long job, String requestId, boolean async, int[] gpuBlocks) {
        finishedJobs.put(job, false);
        count("load_copy_failures", 1);
        for (int b : gpuBlocks) {
            loadErrors.add(b);
        }
        if (async) {
            received.add(requestId);
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
        stats.add(name, delta);
    }
}
