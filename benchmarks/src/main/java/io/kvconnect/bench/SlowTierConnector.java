package io.kvconnect.bench;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A storage tier that takes {@code readMillis} of wall time per load, as a disk would: either
 * inline on the worker thread (a synchronous load) or on a thread of its own (an asynchronous
 * load, the request waiting meanwhile). It exists to show how the engine times a connector's own
 * threads ({@link io.kvconnect.core.config.Pacing}); it keeps one worker, stores a finished
 * request's confirmed blocks (the engine frees them once the store is done) and never evicts.
 */
final class SlowTierConnector {
    private record Load(String requestId, int[] gpuBlocks, int[] slots) {}

    private record Store(String requestId, int[] gpuBlocks, int[] slots) {}

    private record Step(List<Load> loads, List<Store> stores) implements ConnectorMetadata {}

    private final boolean async;
    private final long readMillis;
    private final int capacity;
    private final int blockSize;

    /**
     * @param async whether loads run on the connector's own thread
     * @param readMillis wall time of one load
     * @param capacity host slots
     * @param blockSize the engine's tokens per block
     */
    SlowTierConnector(boolean async, long readMillis, int capacity, int blockSize) {
        this.async = async;
        this.readMillis = readMillis;
        this.capacity = capacity;
        this.blockSize = blockSize;
    }

    SchedulerConnector schedulerSide() {
        return new SchedulerSide();
    }

    WorkerConnector workerSide() {
        return new WorkerSide();
    }

    /** Scheduler thread. */
    private final class SchedulerSide implements SchedulerConnector {
        private final Map<BlockHash, Integer> slots = new HashMap<>();
        private final Map<String, Integer> offered = new HashMap<>();
        private List<Load> loads = new ArrayList<>();
        private List<Store> stores = new ArrayList<>();

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            int bs = blockSize;
            int k = localHitTokens / bs;
            while (k < request.numBlockHashes() && slots.containsKey(request.blockHash(k))) {
                k++;
            }
            int ext = Math.max(0, Math.min(k * bs - localHitTokens, request.numTokens() - 1 - localHitTokens));
            offered.put(request.requestId(), ext);
            return ext == 0 ? MatchResult.none() : async ? MatchResult.async(ext) : MatchResult.sync(ext);
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
            if (externalTokens == 0) {
                return;
            }
            int bs = blockSize;
            int from = localHitTokens / bs;
            int n = Math.ceilDiv(externalTokens, bs);
            int[] gpu = new int[n];
            int[] hostSlots = new int[n];
            for (int i = 0; i < n; i++) {
                gpu[i] = blocks.get(from + i);
                hostSlots[i] = slots.get(request.blockHash(from + i));
            }
            loads.add(new Load(request.requestId(), gpu, hostSlots));
        }

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            Step step = new Step(loads, stores);
            loads = new ArrayList<>();
            stores = new ArrayList<>();
            return step;
        }

        @Override
        public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
            int bs = blockSize;
            int full = Math.min(Math.min(request.numComputedTokens() / bs, request.numBlockHashes()), blockIds.size());
            List<Integer> gpu = new ArrayList<>();
            List<Integer> hostSlots = new ArrayList<>();
            for (int b = 0; b < full && slots.size() < capacity; b++) {
                BlockHash h = request.blockHash(b);
                if (!slots.containsKey(h)) {
                    slots.put(h, slots.size());
                    gpu.add(blockIds.get(b));
                    hostSlots.add(slots.get(h));
                }
            }
            if (gpu.isEmpty()) {
                return FinishResult.freeNow();
            }
            stores.add(new Store(request.requestId(), ints(gpu), ints(hostSlots)));
            return FinishResult.delayFree(io.kvconnect.api.common.TransferParams.empty());
        }
    }

    /** Worker thread, and the loader thread for asynchronous loads. */
    private final class WorkerSide implements WorkerConnector {
        private final ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "slow-tier-loader");
            t.setDaemon(true);
            return t;
        });
        private final ConcurrentLinkedQueue<String> loaded = new ConcurrentLinkedQueue<>();
        private final Set<String> sent = new HashSet<>();
        private BlockCopyService copies;
        private HostBlockBuffer buffer;
        private Step bound = new Step(List.of(), List.of());

        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService service) {
            copies = service;
            buffer = service.allocateHostBuffer(capacity);
        }

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {
            bound = metadata instanceof Step s ? s : new Step(List.of(), List.of());
        }

        @Override
        public void startLoadKv() {
            for (Store s : bound.stores()) {
                await(copies.copyToHost(s.gpuBlocks(), buffer, s.slots()));
                sent.add(s.requestId());
            }
            for (Load l : bound.loads()) {
                if (async) {
                    loader.submit(() -> {
                        read();
                        await(copies.copyFromHost(buffer, l.slots(), l.gpuBlocks()));
                        loaded.add(l.requestId());
                    });
                } else {
                    read();
                    await(copies.copyFromHost(buffer, l.slots(), l.gpuBlocks()));
                }
            }
        }

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            if (loaded.isEmpty() && sent.isEmpty()) {
                return WorkerStepReport.EMPTY;
            }
            Set<String> receiving = new HashSet<>();
            for (String id; (id = loaded.poll()) != null; ) {
                receiving.add(id);
            }
            WorkerStepReport report = WorkerStepReport.builder()
                    .addFinishedSending(sent)
                    .addFinishedReceiving(receiving)
                    .build();
            sent.clear();
            return report;
        }

        @Override
        public void shutdown() {
            loader.shutdownNow();
            if (buffer != null) {
                buffer.close();
            }
        }

        private void read() {
            try {
                Thread.sleep(readMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void await(io.kvconnect.api.worker.CopyTicket ticket) {
            try {
                ticket.await();
            } catch (CopyFailedException e) {
                throw new IllegalStateException("a copy of the benchmark's tier failed", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static int[] ints(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }
}
