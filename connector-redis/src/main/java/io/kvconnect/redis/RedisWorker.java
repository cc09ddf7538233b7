package io.kvconnect.redis;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * The worker side of the redis connector for one rank. Hooks run on the worker thread; Redis
 * commands complete on the client's I/O threads, which only queue their results: host memory, the
 * copies and every other field are touched by the worker thread alone.
 *
 * <p><b>Staging.</b> Blocks move through a host buffer of {@code staging_blocks} slots allocated
 * in {@link #registerKvCaches}. A load takes one slot per block, reads each block's value into its
 * slot (checking the header), copies the slots into the KV cache, and frees the slots when that
 * copy ended; a load waits for slots (in order) rather than fail. A store copies its blocks out of
 * the KV cache into slots after the step's compute, then encodes each slot into a value and frees
 * it at once; the write continues from the heap. A store finds its slots free (a quarter of them
 * kept for loads) or is dropped and counted: stores never wait.
 *
 * <p><b>Bounds.</b> At most {@code max_in_flight} commands are outstanding; every command ends
 * within the configured timeout. Each finished job goes back to the scheduler side in the worker
 * metadata; a store also reports, as soon as its copy out of the KV cache ended, that it no
 * longer reads its GPU blocks. Loads are always asynchronous: a load's request appears in
 * finished receives in the same report as its failed blocks, if any.
 */
final class RedisWorker implements WorkerConnector {
    private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(30);

    private final RedisConfig config;
    private final int rank;
    private final Supplier<RedisStore> storeFactory;
    private RedisStore store;
    private Namespace namespace;
    /** Protects the values this worker writes and checks those it reads; worker thread only. */
    private final ValueSeal seal;

    private BlockCopyService copies;
    private HostBlockBuffer buffer;
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private int storeReserve;
    /** The size of every value this worker accepts: a load never reads more of a value (and a byte). */
    private int valueBytes;
    /** Commands sent whose completion has not been drained yet. */
    private int inFlight;

    private final ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
    private RedisMetadata bound = RedisMetadata.EMPTY;
    private final Set<Long> startedStores = new HashSet<>();

    private final ArrayDeque<RedisMetadata.LoadJob> waitingLoads = new ArrayDeque<>();
    private final Map<Long, Load> loads = new LinkedHashMap<>();
    private final Map<Long, Store> stores = new LinkedHashMap<>();

    private final List<Long> released = new ArrayList<>();
    private final Map<Long, Boolean> results = new LinkedHashMap<>();
    private final Set<String> received = new LinkedHashSet<>();
    private final Set<Integer> loadErrors = new LinkedHashSet<>();
    private final StatsCounter stats = new StatsCounter();
    private final FirstErrors firstErrors;
    private boolean shutDown;

    /** A command's outcome, queued by an I/O thread. */
    private record Done(long job, boolean load, int index, byte[] value, Throwable error, long nanos) {}

    private static final class Load {
        final RedisMetadata.LoadJob job;
        final int[] slots;
        final long start = System.nanoTime();
        int pending;
        boolean failed;
        long bytes;
        long end;
        CopyTicket ticket;

        Load(RedisMetadata.LoadJob job, int[] slots) {
            this.job = job;
            this.slots = slots;
            this.pending = slots.length;
        }
    }

    private static final class Store {
        final RedisMetadata.StoreJob job;
        final int[] slots;
        CopyTicket ticket;
        long start;
        int pending;
        boolean failed;
        long bytes;
        long end;

        Store(RedisMetadata.StoreJob job, int[] slots, CopyTicket ticket) {
            this.job = job;
            this.slots = slots;
            this.ticket = ticket;
        }
    }

    RedisWorker(RedisConfig config, int rank, Supplier<RedisStore> storeFactory) {
        this.config = config;
        this.rank = rank;
        this.firstErrors = new FirstErrors("worker " + rank);
        this.storeFactory = storeFactory;
        this.seal = config.valueSecret().map(ValueSeal::hmac).orElseGet(ValueSeal::checksum);
    }

    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copyService) {
        if (buffer != null) {
            throw new IllegalStateException("registerKvCaches called twice");
        }
        this.copies = copyService;
        this.namespace = Namespace.of(layout, config.namespace(), seal.signs());
        this.buffer = copyService.allocateHostBuffer(config.stagingBlocks());
        for (int i = 0; i < config.stagingBlocks(); i++) {
            freeSlots.add(i);
        }
        this.storeReserve = config.stagingBlocks() / 4;
        this.valueBytes = Math.toIntExact(BlockValue.headerBytes(seal) + buffer.slotBytes());
        this.store = storeFactory.get();
    }

    @Override
    public Optional<HandshakeMetadata> handshakeMetadata() {
        return Optional.ofNullable(namespace);
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        bound = metadata instanceof RedisMetadata m ? m : RedisMetadata.EMPTY;
        startedStores.clear();
    }

    @Override
    public void startLoadKv() {
        waitingLoads.addAll(bound.loads());
        startWaitingLoads();
    }

    @Override
    public void waitForSave() {
        startStores();
    }

    /**
     * Starts the step's stores (in a step without a forward pass), takes in what Redis answered,
     * starts the copies it allows, and reports every job that ended. Nothing is allocated when
     * nothing happened.
     */
    @Override
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        startStores();
        drain();
        pollCopies();
        startWaitingLoads();
        Optional<ConnectorStats> stepStats = stats.take();
        if (received.isEmpty()
                && loadErrors.isEmpty()
                && results.isEmpty()
                && released.isEmpty()
                && stepStats.isEmpty()) {
            return WorkerStepReport.EMPTY;
        }
        boolean jobs = !results.isEmpty() || !released.isEmpty();
        WorkerStepReport report = WorkerStepReport.builder()
                .addFinishedReceiving(received)
                .addInvalidBlockIds(loadErrors)
                .stats(stepStats)
                .workerMetadata(jobs ? Optional.of(JobReports.of(rank, released, results)) : Optional.empty())
                .build();
        received.clear();
        loadErrors.clear();
        results.clear();
        released.clear();
        return report;
    }

    @Override
    public void clearConnectorMetadata() {
        bound = RedisMetadata.EMPTY;
        startedStores.clear();
    }

    @Override
    public void shutdown() {
        if (shutDown) {
            return;
        }
        shutDown = true;
        List<CopyTicket> tickets = new ArrayList<>();
        loads.values().stream().filter(l -> l.ticket != null).forEach(l -> tickets.add(l.ticket));
        stores.values().stream().filter(s -> s.ticket != null).forEach(s -> tickets.add(s.ticket));
        for (CopyTicket t : tickets) {
            // The buffer must outlive every copy that uses it.
            try {
                t.await(SHUTDOWN_WAIT);
            } catch (CopyFailedException e) {
                // Over too.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        loads.clear();
        stores.clear();
        waitingLoads.clear();
        if (store != null) {
            store.close();
        }
        if (buffer != null) {
            buffer.close();
        }
    }

    // ------------------------------------------------------------------ loads

    /** Starts waiting loads in order while their slots are free. */
    private void startWaitingLoads() {
        while (!waitingLoads.isEmpty()) {
            RedisMetadata.LoadJob job = waitingLoads.peek();
            int n = job.keys().size();
            if (job.cancelled() || n == 0 || n > config.stagingBlocks()) {
                waitingLoads.poll();
                count(job.cancelled() ? "load_cancelled" : "load_too_large", 1);
                failLoad(job);
                continue;
            }
            if (freeSlots.size() < n || inFlight + n > config.maxInFlight()) {
                return; // slots and commands free up as loads and stores end, within the timeouts
            }
            waitingLoads.poll();
            Load l = new Load(job, takeSlots(n));
            loads.put(job.id(), l);
            for (int i = 0; i < n; i++) {
                int index = i;
                inFlight++;
                store.getAtMost(namespace.key(job.keys().get(i), rank), valueBytes)
                        .whenComplete((v, e) -> done.add(new Done(job.id(), true, index, v, e, System.nanoTime())));
            }
        }
    }

    private void gotValue(Load l, Done d) {
        l.pending--;
        l.end = Math.max(l.end, d.nanos());
        BlockHash key = l.job.keys().get(d.index());
        if (d.error() != null && RedisStore.wrongType(d.error())) {
            // A list, hash ... under a value's key: no block, and EXISTS would offer it forever.
            l.failed = true;
            refuse(key, BlockValue.Refusal.FOREIGN);
        } else if (d.error() != null) {
            l.failed = true;
            count("load_errors_" + firstErrors.note("load", d.error()).counter(), 1);
        } else if (d.value() == null || d.value().length == 0) {
            l.failed = true;
            count("load_misses", 1); // evicted, flushed or lost since the lookup
            if (d.value() != null) {
                // GETRANGE answers an absent key and an empty value alike; an empty value, never
                // ours, would be offered by every lookup. Unlinking an absent key does nothing.
                store.unlink(namespace.key(key, rank));
            }
        } else {
            BlockValue.Refusal refusal =
                    BlockValue.check(d.value(), namespace.id(), rank, key, buffer.slotBytes(), seal);
            if (refusal != null) {
                l.failed = true;
                refuse(key, refusal);
            } else if (!l.failed) {
                BlockValue.copyPayload(d.value(), buffer.slot(l.slots[d.index()]));
                l.bytes += buffer.slotBytes();
            }
        }
        if (l.pending > 0) {
            return;
        }
        if (l.failed) {
            finishLoad(l, false);
            return;
        }
        try {
            l.ticket = copies.copyFromHost(buffer, l.slots, l.job.gpuBlocks());
        } catch (IllegalArgumentException e) {
            count("load_copy_failures", 1);
            finishLoad(l, false);
        }
    }

    /**
     * Counts and logs (the first of each kind) a value that is not this block's share, and removes
     * it, so that lookups stop finding it and a later store writes the block again.
     */
    private void refuse(BlockHash key, BlockValue.Refusal refusal) {
        count("load_refused_" + firstErrors.refused(refusal, key), 1);
        store.unlink(namespace.key(key, rank));
    }

    private void finishLoad(Load l, boolean ok) {
        loads.remove(l.job.id());
        giveSlots(l.slots);
        results.put(l.job.id(), ok);
        received.add(l.job.requestId());
        if (ok) {
            count("load_blocks", l.slots.length);
            count("load_bytes", l.bytes);
            count("load_nanos", l.end - l.start);
        } else {
            count("load_failures", 1);
            for (int b : l.job.gpuBlocks()) {
                loadErrors.add(b);
            }
        }
    }

    private void failLoad(RedisMetadata.LoadJob job) {
        results.put(job.id(), false);
        received.add(job.requestId());
        count("load_failures", 1);
        for (int b : job.gpuBlocks()) {
            loadErrors.add(b);
        }
    }

    // ------------------------------------------------------------------ stores

    /** Starts the bound stores not started yet (each one once), or drops them. */
    private void startStores() {
        for (RedisMetadata.StoreJob job : bound.stores()) {
            if (!startedStores.add(job.id())) {
                continue;
            }
            int n = job.keys().size();
            String drop = null;
            if (!store.connected()) {
                drop = "store_dropped_unavailable";
            } else if (freeSlots.size() - n < storeReserve || inFlight + n > config.maxInFlight()) {
                drop = "store_dropped_busy";
            }
            if (drop != null) {
                count(drop, n);
                released.add(job.id());
                results.put(job.id(), false);
                continue;
            }
            int[] slots = takeSlots(n);
            try {
                stores.put(job.id(), new Store(job, slots, copies.copyToHost(job.gpuBlocks(), buffer, slots)));
            } catch (IllegalArgumentException e) {
                giveSlots(slots);
                count("store_copy_failures", 1);
                released.add(job.id());
                results.put(job.id(), false);
            }
        }
    }

    /** A store's copy out of the KV cache ended: write its blocks, freeing each slot once encoded. */
    private void copiedOut(Store s) {
        boolean ok = !s.ticket.failed();
        s.ticket = null;
        released.add(s.job.id());
        if (!ok) {
            giveSlots(s.slots);
            stores.remove(s.job.id());
            count("store_copy_failures", 1);
            results.put(s.job.id(), false);
            return;
        }
        s.start = System.nanoTime();
        s.pending = s.slots.length;
        for (int i = 0; i < s.slots.length; i++) {
            BlockHash key = s.job.keys().get(i);
            byte[] value = BlockValue.encode(namespace.id(), rank, key, buffer.slot(s.slots[i]), seal);
            s.bytes += buffer.slotBytes();
            int index = i;
            long job = s.job.id();
            inFlight++;
            store.set(namespace.key(key, rank), value)
                    .whenComplete((v, e) -> done.add(new Done(job, false, index, null, e, System.nanoTime())));
        }
        giveSlots(s.slots);
    }

    private void wrote(Store s, Done d) {
        s.pending--;
        s.end = Math.max(s.end, d.nanos());
        if (d.error() != null) {
            if (!s.failed) {
                count("store_errors_" + firstErrors.note("store", d.error()).counter(), 1);
            }
            s.failed = true;
        }
        if (s.pending > 0) {
            return;
        }
        stores.remove(s.job.id());
        results.put(s.job.id(), !s.failed);
        if (s.failed) {
            count("store_failures", 1);
        } else {
            count("store_blocks", s.slots.length);
            count("store_bytes", s.bytes);
            count("store_nanos", s.end - s.start);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Takes in every queued command outcome. */
    private void drain() {
        Done d;
        while ((d = done.poll()) != null) {
            inFlight--;
            if (d.load()) {
                Load l = loads.get(d.job());
                if (l != null) {
                    gotValue(l, d);
                }
            } else {
                Store s = stores.get(d.job());
                if (s != null) {
                    wrote(s, d);
                }
            }
        }
    }

    private void pollCopies() {
        for (Load l : List.copyOf(loads.values())) {
            if (l.ticket != null && l.ticket.isDone()) {
                boolean ok = !l.ticket.failed();
                if (!ok) {
                    count("load_copy_failures", 1);
                }
                finishLoad(l, ok);
            }
        }
        for (Iterator<Store> it = List.copyOf(stores.values()).iterator(); it.hasNext(); ) {
            Store s = it.next();
            if (s.ticket != null && s.ticket.isDone()) {
                copiedOut(s);
            }
        }
    }

    private int[] takeSlots(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = freeSlots.pop();
        }
        return out;
    }

    private void giveSlots(int[] slots) {
        for (int s : slots) {
            freeSlots.push(s);
        }
    }

    private void count(String name, long delta) {
        stats.add(name, delta);
    }
}
