package io.kvconnect.nixl;

import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.BlockSend;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.ReadRequest;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import io.kvconnect.nixl.transport.BlockSource;
import io.kvconnect.nixl.transport.DirectSend;
import io.kvconnect.nixl.transport.EventCounters;
import io.kvconnect.nixl.transport.Listener;
import io.kvconnect.nixl.transport.Peer;
import io.kvconnect.nixl.transport.Transport;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker side of the nixl-like connector: one per tensor-parallel rank.
 *
 * <p><b>Producer.</b> {@link #registerKvCaches} starts the transport's server (once; the KV memory
 * is reached through the engine's copy service: sent from the KV cache where it is host memory,
 * {@link #openSend}, else copied into one staging buffer per connection). Exposed
 * transfers are held under a lease on the engine's clock: each read renews it; a reader's done
 * notice ({@code DONE}, or one entry of a {@code DONE_BATCH}) ends it; when it expires no further read is served (the reader gets {@code EXPIRED}, a
 * visible load failure). A read or done notification without the transfer's token is refused and
 * counted ({@code reads_refused_token}, {@code notifications_refused_token}) and neither renews nor
 * ends anything. {@link #reportStep} reports a transfer's request in finished sends once
 * it ended and no read is copying its blocks, so the engine never frees blocks under a read. A
 * read's blocks are written by the engine from the KV cache into the connection ({@code
 * reads_served_direct}) or, where it cannot (a device's KV cache, or injected copy faults), copied
 * into the connection's staging buffer and sent from there.
 * Each read served is counted with its descriptors ({@code reads_served}, {@code
 * descriptors_served}).
 *
 * <p><b>Consumer.</b> Loads run on {@link ReadLanes}: those from one producer worker one after
 * another, those from different ones side by side on up to {@code read_lanes} threads, so a
 * producer that stops answering holds up its own loads only. A load connects (once per producer
 * worker, reused), reads the blocks in chunks into its lane's staging buffer (allocated at
 * registration), and copies them into the GPU blocks. After each step's loads, one notice per
 * producer worker, on its lane, tells it every transfer this worker finished with since the
 * previous notice ({@link Peer#done(List)}). Each read is counted with its descriptors ({@code
 * read_requests}, {@code read_descriptors}: descriptors per read and per load follow). A failure
 * of any kind reports the load's blocks among the failed loads and the request in finished
 * receives of one {@link #reportStep}; every wait is bounded by the configured timeouts, and a
 * producer that let a connection attempt, a read or a notice time out is not tried again for a
 * while (its loads fail at once, counted as {@code peers_held_off}). Rank
 * {@code r} reads from the producer's rank {@code r} (equal tensor-parallel sizes). A transfer whose {@code remote_host} is
 * not in {@code peers} fails before any connection ({@code loads_failed_untrusted}).
 *
 * <p><b>Threads.</b> Engine hooks run on the worker thread; reads are served on the transport's
 * connection threads and loads on the read lanes. Shared state is guarded by {@code this}; what
 * one producer's loads keep to themselves (its connection, its hold-off, its queued notices) is
 * used by its lane only, one task at a time.
 */
final class NixlWorker implements WorkerConnector, BlockSource {
    private static final Logger LOG = LoggerFactory.getLogger(NixlWorker.class);
    private static final int TOMBSTONES = 16_384;
    /**
     * Most characters of transfer ids remembered from early done notices: room for the most
     * notices kept with ids of 256 characters, while a peer naming ids of a mebibyte cannot make
     * the worker keep more than a few of them.
     */
    private static final long EARLY_DONE_ID_CHARS = 256L * TOMBSTONES;
    /**
     * After a connection attempt to a producer timed out, no new attempt for this many connect
     * timeouts; after a read or notice timed out, for this many I/O timeouts: a producer that stays
     * silent then holds its lane at most a fifth of the time, and the loads queued for it meanwhile
     * fail at once instead of each waiting out a timeout of its own.
     */
    private static final int SILENT_HOLD_FACTOR = 4;

    private final NixlConfig config;
    private final WorkerContext context;
    private final Transport transport;
    private final InstantSource clock;
    private final int rank;

    private KvLayout layout;
    private BlockCopyService copies;
    private Compat compat;
    private Listener listener;

    // Producer state, guarded by this.
    private final Map<String, Exposure> exposures = new LinkedHashMap<>();
    private final Map<String, String> tombstones = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > TOMBSTONES;
        }
    };
    /** Done notifications ahead of their exposure. */
    private final EarlyDones earlyDone = new EarlyDones(TOMBSTONES, EARLY_DONE_ID_CHARS);

    private final Set<String> finishedSends = new HashSet<>();

    // Consumer state.
    private ReadLanes lanes;
    /**
     * Whether reads are sent straight from the KV cache; false once the copy service said it
     * cannot (a device's KV cache). Read by connection threads.
     */
    private volatile boolean sendsDirectly = true;

    private final Map<String, Peer> peers = new ConcurrentHashMap<>();
    /**
     * Producers held off, by {@link #key}: the last connection attempt, read or notice timed out.
     * Each entry is used by its producer's lane only.
     */
    private final Map<String, Silence> silentUntil = new ConcurrentHashMap<>();

    /**
     * Why and until when ({@link System#nanoTime()}) a producer is not tried again.
     *
     * @param untilNanos when the next load may connect again
     * @param what what timed out, for the message of each load failed meanwhile
     * @param timeout the timeout that ran out
     */
    private record Silence(long untilNanos, String what, Duration timeout) {}

    private final Map<String, Long> currentLoad = new HashMap<>(); // guarded by this
    private final Set<String> cancelled = new HashSet<>(); // guarded by this
    private final Set<String> received = new HashSet<>(); // guarded by this
    private final Set<Integer> failedBlocks = new HashSet<>(); // guarded by this

    private final Map<String, Long> counters = new TreeMap<>(); // guarded by this
    private boolean reportedTransport;
    private long tokenRefusals; // guarded by this
    private long unknownDones; // guarded by this
    /**
     * Failed loads so far, by producer worker and kind of failure, for {@link #logLoadFailure}.
     * Cleared when it names too many producers: it only thins out log lines.
     */
    private final Map<String, Long> loadFailuresLogged = new HashMap<>(); // guarded by this

    private long duplicateDones; // guarded by this
    private boolean shutDown;
    private NixlMetadata bound; // worker thread only

    NixlWorker(NixlConfig config, WorkerContext context, Transport transport) {
        this.config = config;
        this.context = context;
        this.transport = transport;
        this.clock = context.clock();
        this.rank = context.rank();
    }

    /** One finished prefill's blocks, readable until done or expired. Guarded by the worker. */
    private static final class Exposure {
        final String requestId;
        final TransferRef transfer;
        final String transferId;
        final Set<Integer> blocks = new HashSet<>();
        Instant deadline;
        int inFlight;
        String state = "live"; // live, done, expired

        Exposure(String requestId, TransferRef transfer, int[] blocks, Instant deadline) {
            this.requestId = requestId;
            this.transfer = transfer;
            this.transferId = transfer.id();
            for (int b : blocks) {
                this.blocks.add(b);
            }
            this.deadline = deadline;
        }
    }

    @Override
    public void registerKvCaches(KvLayout kvLayout, BlockCopyService copyService) {
        this.layout = kvLayout;
        this.copies = copyService;
        this.compat = Compat.of(context.engine().engineId(), NixlConnectorProvider.VERSION, kvLayout);
        if (config.role().produces()) {
            int port = config.port() == 0 ? 0 : config.port() + rank;
            try {
                listener = transport.listen(config.host(), port, compat, config.listenOptions(), this);
            } catch (IOException e) {
                throw new IllegalStateException(
                        "nixl-like: worker " + rank + " cannot serve KV reads: " + e.getMessage()
                                + "; set 'port' to a free port (or 0) and 'host' to a local address",
                        e);
            }
            LOG.info(
                    "nixl-like: engine {} worker {} serves KV reads over {} on {}:{} (lease {}, compatibility "
                            + "hash {})",
                    context.engine().engineId(),
                    rank,
                    transport.name(),
                    config.host(),
                    listener.port(),
                    config.leaseTimeout(),
                    compat.hash().substring(0, 16));
            if (config.insecureNoSecret()) {
                LOG.warn(
                        "nixl-like: INSECURE: 'insecure_no_secret' is set, so there is no shared secret: anyone on "
                                + "this host (and beyond it, if {} is reachable from elsewhere) can connect to port {} and "
                                + "handshake, and then read the KV blocks of every transfer whose parameters it sees (they "
                                + "travel unencrypted through the router), end those transfers, and flood this worker; set "
                                + "the same 'secret' on both engines instead",
                        config.host(),
                        listener.port());
            }
        }
        if (config.role().consumes()) {
            lanes = new ReadLanes(
                    "nixl-read-" + context.engine().engineId() + "-" + rank,
                    config.readLanes(),
                    () -> copies.allocateHostBuffer(config.chunkBlocks()));
            LOG.info(
                    "nixl-like: engine {} worker {} reads KV over {} from peers [{}]",
                    context.engine().engineId(),
                    rank,
                    transport.name(),
                    config.peers());
            if (config.insecureNoSecret()) {
                LOG.warn("nixl-like: INSECURE: 'insecure_no_secret' is set, so there is no shared secret: any process "
                        + "that listens at a producer's address in 'peers' can feed this engine KV; set the same "
                        + "'secret' on both engines instead");
            }
        }
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        if (!(metadata instanceof NixlMetadata m)) {
            bound = null;
            return;
        }
        bound = m;
        synchronized (this) {
            for (NixlMetadata.Expose e : m.expose()) {
                var x = new Exposure(
                        e.requestId(), new TransferRef(e.transferId(), e.token()), e.blocks(), e.deadline());
                // One notice per connection: a wrong token on one cannot cancel the right one on another.
                for (String early : earlyDone.take(e.transferId())) {
                    if (x.transfer.tokenMatches(early)) {
                        // The reader gave up on it before it reached us (an early abort on the decode side).
                        x.state = "done";
                    } else {
                        refusedToken("notifications_refused_token", "done notification", x.transfer);
                    }
                }
                exposures.put(e.transferId(), x);
            }
            for (String id : m.cancel()) {
                if (currentLoad.containsKey(id)) {
                    cancelled.add(id);
                }
            }
            for (NixlMetadata.Load l : m.loads()) {
                currentLoad.put(l.requestId(), l.loadId());
                cancelled.remove(l.requestId());
            }
        }
    }

    @Override
    public void startLoadKv() {
        NixlMetadata m = bound;
        // Most steps of a decode engine load nothing: no set of producers for them.
        if (m == null
                || lanes == null
                || (m.loads().isEmpty() && m.notifications().isEmpty())) {
            return;
        }
        // Each producer's work on its own lane, so that a silent one holds up only its own loads.
        Set<String> producers = new LinkedHashSet<>();
        for (NixlMetadata.Load l : m.loads()) {
            String producer = key(l.remote());
            producers.add(producer);
            lanes.execute(producer, staging -> load(l, staging));
        }
        for (NixlMetadata.Notify n : m.notifications()) {
            String producer = key(n.remote());
            producers.add(producer);
            lanes.execute(producer, staging -> notifyOnly(n));
        }
        for (String producer : producers) {
            // After this step's loads from it: one notice per producer worker for all of them.
            lanes.execute(producer, staging -> sendNotices(producer));
        }
    }

    @Override
    public void clearConnectorMetadata() {
        bound = null;
    }

    // ---- consumer ------------------------------------------------------------------------------

    /**
     * Logs a failed load: the first, second, fourth, eighth ... of each kind from each producer
     * worker. A dead or held-off producer fails every load sent its way, at once, and one line per
     * load would flood the log; the counters still count every one.
     */
    private void logLoadFailure(NixlMetadata.Load l, TransferException e) {
        String producer = key(l.remote()) + " " + e.kind();
        long n;
        synchronized (this) {
            if (loadFailuresLogged.size() >= 1_024 && !loadFailuresLogged.containsKey(producer)) {
                loadFailuresLogged.clear();
            }
            n = loadFailuresLogged.merge(producer, 1L, Long::sum);
        }
        if (EventCounters.worthLogging(n)) {
            LOG.warn(
                    "nixl-like: load of request {} (transfer {}) failed: {}; its {} block(s) are reported as a "
                            + "load failure ({} such failure(s) from this producer so far, logged sparsely)",
                    l.requestId(),
                    l.remote().transfer(),
                    e.getMessage(),
                    l.localBlocks().length,
                    n);
        }
    }

    /** Runs one load on its producer's lane, reading into {@code staging}. */
    private void load(NixlMetadata.Load l, HostBlockBuffer staging) {
        RemoteParams r = l.remote();
        TransferRef transfer = r.transfer();
        boolean failed = false;
        boolean stopped = false;
        long t0 = System.nanoTime();
        long bytes = 0;
        long movingNanos = 0;
        Peer peer = null;
        try {
            peer = peer(r);
            int n = l.remoteBlocks().length;
            for (int off = 0; off < n; off += config.chunkBlocks()) {
                if (isCancelled(l.requestId())) {
                    stopped = true;
                    break;
                }
                int m = Math.min(config.chunkBlocks(), n - off);
                int[] remote = Arrays.copyOfRange(l.remoteBlocks(), off, off + m);
                int[] local = Arrays.copyOfRange(l.localBlocks(), off, off + m);
                long readNanos = readWithRetry(peer, r, remote, staging);
                // What the producer was asked for: one request, one descriptor per run of
                // consecutive blocks (the transfer's cost on a real NIC).
                count("read_requests", 1);
                count("read_descriptors", ReadRequest.of(transfer, remote).descriptors());
                long c0 = System.nanoTime();
                int[] slots = new int[m];
                Arrays.setAll(slots, i -> i);
                CopyTicket ticket = copies.copyFromHost(staging, slots, local);
                // Unbounded on purpose: the copy writes into our GPU blocks, so they must not be
                // reported (and freed) while it may still run. Local copies always finish.
                ticket.await();
                bytes += ticket.bytes();
                movingNanos += readNanos + System.nanoTime() - c0;
            }
            // Also after a cancelled load: the producer may free the blocks at once.
            queueNotice(new Notice(l.requestId(), r, Notice.Kind.LOADED));
        } catch (TransferException e) {
            failed = !stopped;
            logLoadFailure(l, e);
            count(e.kind() == TransferException.Kind.EXPIRED ? "loads_failed_expired" : "loads_failed", 1);
            if (e.kind() == TransferException.Kind.UNTRUSTED) {
                count("loads_failed_untrusted", 1);
            }
            dropPeer(r, e.kind());
            if (e.kind() != TransferException.Kind.EXPIRED
                    && e.kind() != TransferException.Kind.HANDSHAKE
                    && e.kind() != TransferException.Kind.UNTRUSTED) {
                queueNotice(new Notice(l.requestId(), r, Notice.Kind.BEST_EFFORT));
            }
        } catch (CopyFailedException e) {
            failed = true;
            LOG.warn(
                    "nixl-like: copying request {}'s blocks into the KV cache failed: {}", l.requestId(), e.toString());
            count("loads_failed", 1);
            queueNotice(new Notice(l.requestId(), r, Notice.Kind.BEST_EFFORT));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed = true;
        } catch (RuntimeException e) {
            failed = true;
            LOG.error("nixl-like: load of request {} failed unexpectedly", l.requestId(), e);
            count("loads_failed", 1);
        }
        if (stopped) {
            count("loads_cancelled", 1);
        } else if (!failed) {
            count("loads_ok", 1);
            count("blocks_received", l.localBlocks().length);
            count("bytes_received", bytes);
            // Whole loads (connecting, waiting for the producer to expose the transfer) and the
            // time the bytes were actually moving (successful reads and the copies into the cache).
            count("receive_micros", (System.nanoTime() - t0) / 1_000);
            count("transfer_micros", movingNanos / 1_000);
        }
        complete(l, failed);
    }

    /**
     * Reads one chunk into {@code staging}; returns how long the successful attempt took, in
     * nanoseconds. A read that timed out holds its producer off ({@link #holdOff}).
     */
    private long readWithRetry(Peer peer, RemoteParams r, int[] remote, HostBlockBuffer staging)
            throws TransferException, InterruptedException {
        long deadline = System.nanoTime() + config.exposeWait().toNanos();
        while (true) {
            try {
                long r0 = System.nanoTime();
                peer.read(r.transfer(), remote, staging);
                return System.nanoTime() - r0;
            } catch (TransferException e) {
                if (e.kind() == TransferException.Kind.TIMEOUT) {
                    holdOff(r, "a read", config.ioTimeout());
                }
                // The producer's workers learn of a transfer one step after its response left.
                if (e.kind() != TransferException.Kind.UNKNOWN_TRANSFER || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(2);
            }
        }
    }

    private void notifyOnly(NixlMetadata.Notify n) {
        if (n.remote().ports().size() <= rank) {
            return;
        }
        queueNotice(new Notice(n.requestId(), n.remote(), Notice.Kind.WILL_NOT_READ));
    }

    /**
     * A transfer this reader is done with, waiting for the step's notice to its producer worker.
     *
     * @param requestId the request, for messages
     * @param remote the transfer and its producer
     * @param kind why: a load that completed (its blocks are in the KV cache; the notice only frees
     *     the producer sooner), a failed load's best effort (sent only on a connection still open),
     *     or a request that will not read the transfer at all
     */
    private record Notice(String requestId, RemoteParams remote, Kind kind) {
        enum Kind {
            LOADED,
            BEST_EFFORT,
            WILL_NOT_READ
        }
    }

    /**
     * Notices not sent yet: by {@link #key} (the lane), then per producer engine, in the order
     * they were queued. An entry is used by its producer's lane only.
     */
    private final Map<String, Map<String, List<Notice>>> notices = new ConcurrentHashMap<>();

    private void queueNotice(Notice n) {
        notices.computeIfAbsent(key(n.remote()), k -> new LinkedHashMap<>())
                .computeIfAbsent(n.remote().engineId(), k -> new ArrayList<>())
                .add(n);
    }

    /**
     * Sends the queued notices: one per producer worker ({@link Peer#done(List)}), the producer
     * takes them in one go. Runs on {@code producer}'s lane after the step's loads from it. A
     * notice that cannot be delivered does not fail anything: every load already ended, and the
     * producer's lease frees the blocks without it.
     */
    private void sendNotices(String producer) {
        Map<String, List<Notice>> queuedNotices = notices.remove(producer);
        if (queuedNotices == null) {
            return;
        }
        for (List<Notice> batch : queuedNotices.values()) {
            RemoteParams r = batch.getFirst().remote();
            boolean bestEffortOnly = batch.stream().allMatch(n -> n.kind() == Notice.Kind.BEST_EFFORT);
            long willNotRead = batch.stream()
                    .filter(n -> n.kind() == Notice.Kind.WILL_NOT_READ)
                    .count();
            long owed = batch.stream()
                    .filter(n -> n.kind() != Notice.Kind.BEST_EFFORT)
                    .count();
            try {
                // Best-effort notices alone do not open a connection that a failure closed.
                Peer p = bestEffortOnly ? peers.get(key(r)) : peer(r);
                if (p == null) {
                    continue;
                }
                try {
                    p.done(batch.stream().map(n -> n.remote().transfer()).toList());
                } catch (TransferException e) {
                    if (e.kind() == TransferException.Kind.TIMEOUT) {
                        holdOff(r, "a done notice", config.ioTimeout());
                    }
                    throw e;
                }
                if (willNotRead > 0) {
                    count("notifications_sent", willNotRead);
                }
            } catch (TransferException e) {
                if (owed > 0) {
                    LOG.info(
                            "nixl-like: could not tell engine {} that {} transfer(s) (requests {}) are done: {} (its "
                                    + "lease frees the blocks)",
                            r.engineId(),
                            batch.size(),
                            batch.stream().map(Notice::requestId).toList(),
                            e.getMessage());
                    count("notifications_failed", owed);
                }
                dropPeer(r, e.kind());
            }
        }
    }

    private static String key(RemoteParams r) {
        return r.host() + ":" + r.ports();
    }

    /**
     * A handshaken connection to the producer's worker of this rank; reconnects after failures.
     * Refuses a host outside {@code peers} before anything else: the host is the request's word.
     */
    private Peer peer(RemoteParams r) throws TransferException {
        if (!config.peers().allows(r.host())) {
            throw new TransferException(
                    TransferException.Kind.UNTRUSTED,
                    "the transfer parameters name host '"
                            + Peers.printable(r.host()) + "', which is not in this engine's 'peers' [" + config.peers()
                            + "]; nothing was connected to. If it is a prefill engine this engine should read from, add its address to "
                            + "'peers'");
        }
        if (r.tpSize() != layout.tensorParallelSize() || r.ports().size() <= rank) {
            throw new TransferException(
                    TransferException.Kind.HANDSHAKE,
                    "the prefill engine has " + r.tpSize()
                            + " tensor-parallel worker(s), this engine " + layout.tensorParallelSize()
                            + "; set the same number of workers on both engines");
        }
        String key = key(r);
        Peer p = peers.get(key);
        if (p != null && !p.remote().engineId().equals(r.engineId())) {
            // Another engine took the address (a restarted prefill): forget the old one.
            p.close();
            peers.remove(key);
            p = null;
        }
        if (p == null) {
            p = connect(r, key);
            if (!p.remote().engineId().equals(r.engineId()) || p.remote().rank() != rank) {
                String found = p.remote().engineId() + " rank " + p.remote().rank();
                p.close();
                throw new TransferException(
                        TransferException.Kind.HANDSHAKE,
                        "expected engine " + r.engineId()
                                + " rank " + rank + " at " + r.host() + ":"
                                + r.ports().get(rank) + " but found " + found
                                + " (the prefill engine restarted?)");
            }
            peers.put(key, p);
        }
        return p;
    }

    /**
     * Connects to the producer's worker of this rank, unless it is held off ({@link #holdOff}):
     * then the caller fails at once ({@code TIMEOUT}, counted as {@code peers_held_off}).
     */
    private Peer connect(RemoteParams r, String key) throws TransferException {
        String where = r.host() + ":" + r.ports().get(rank);
        Silence silence = silentUntil.get(key);
        if (silence != null) {
            if (System.nanoTime() - silence.untilNanos() < 0) {
                count("peers_held_off", 1);
                throw new TransferException(
                        TransferException.Kind.TIMEOUT,
                        "engine " + r.engineId() + " at " + where + " let " + silence.what()
                                + " time out moments ago; not tried again before " + SILENT_HOLD_FACTOR + " x "
                                + silence.timeout() + " passed");
            }
            silentUntil.remove(key);
        }
        try {
            return transport.connect(r.host(), r.ports().get(rank), compat, config.connectOptions());
        } catch (TransferException e) {
            if (e.kind() == TransferException.Kind.TIMEOUT) {
                holdOff(r, "a connection", config.connectTimeout());
            }
            throw e;
        }
    }

    /**
     * Holds the producer of {@code r} off for {@value #SILENT_HOLD_FACTOR} times {@code timeout}
     * after {@code what} timed out: no connection to it is attempted meanwhile, so the loads queued
     * for it fail at once (and are recomputed) instead of each waiting out a timeout of its own on
     * its lane. A producer that handshakes and then never answers (hung, or hostile) would
     * otherwise hold its lane for every load sent its way. Called on the producer's lane, only for
     * a timeout that really ran out, so that the loads failed meanwhile do not prolong the hold.
     */
    private void holdOff(RemoteParams r, String what, Duration timeout) {
        silentUntil.put(key(r), new Silence(System.nanoTime() + SILENT_HOLD_FACTOR * timeout.toNanos(), what, timeout));
    }

    private void dropPeer(RemoteParams r, TransferException.Kind kind) {
        // After a refused read the connection is still in step; after anything else it is not.
        if (kind == TransferException.Kind.EXPIRED || kind == TransferException.Kind.UNKNOWN_TRANSFER) {
            return;
        }
        Peer p = peers.remove(key(r));
        if (p != null) {
            p.close();
        }
    }

    private synchronized boolean isCancelled(String requestId) {
        return cancelled.contains(requestId);
    }

    private synchronized void complete(NixlMetadata.Load l, boolean failed) {
        Long current = currentLoad.get(l.requestId());
        if (current == null || current != l.loadId()) {
            LOG.info("nixl-like: ignoring the end of superseded load {} of request {}", l.loadId(), l.requestId());
            return;
        }
        currentLoad.remove(l.requestId());
        cancelled.remove(l.requestId());
        if (failed) {
            for (int b : l.localBlocks()) {
                failedBlocks.add(b);
            }
        }
        received.add(l.requestId());
    }

    // ---- producer (BlockSource) ----------------------------------------------------------------

    @Override
    public long blockBytes() {
        return layout.bytesPerBlock();
    }

    @Override
    public HostBlockBuffer allocateStaging(int slots) {
        return copies.allocateHostBuffer(slots);
    }

    @Override
    public synchronized void check(TransferRef transfer, int[] blocks) throws TransferException {
        Exposure e = readable(transfer, blocks);
        if (blocks.length > e.blocks.size()) {
            throw new TransferException(
                    TransferException.Kind.FAILED,
                    "a read of " + blocks.length + " blocks of transfer " + transfer + ", which has "
                            + e.blocks.size());
        }
    }

    /**
     * The exposure of {@code transfer} if {@code blocks} may be read from it now with the token
     * presented (expiring it if its lease ran out). A wrong token is refused before anything else
     * of the exposure is looked at or changed. Caller holds the lock.
     */
    private Exposure readable(TransferRef transfer, int[] blocks) throws TransferException {
        String transferId = transfer.id();
        Exposure e = exposures.get(transferId);
        if (e == null) {
            String ended = tombstones.get(transferId);
            if (ended != null) {
                throw new TransferException(
                        TransferException.Kind.EXPIRED,
                        "transfer " + transferId + " has " + ended + "; its blocks are freed");
            }
            throw new TransferException(
                    TransferException.Kind.UNKNOWN_TRANSFER,
                    "transfer " + transferId + " is not known to engine "
                            + context.engine().engineId() + " worker " + rank);
        }
        if (!e.transfer.tokenMatches(transfer.token())) {
            refusedToken("reads_refused_token", "read", transfer);
            throw new TransferException(
                    TransferException.Kind.FAILED,
                    "the token presented for transfer " + transferId + " is not its token; nothing was read");
        }
        Instant now = clock.instant();
        if (e.state.equals("live") && now.isAfter(e.deadline)) {
            expire(e);
        }
        if (!e.state.equals("live")) {
            count("reads_refused_ended", 1);
            throw new TransferException(
                    TransferException.Kind.EXPIRED,
                    "transfer " + transferId + " has "
                            + (e.state.equals("expired")
                                    ? "expired (lease " + config.leaseTimeout() + ")"
                                    : "been completed")
                            + "; its blocks are no longer served");
        }
        for (int b : blocks) {
            if (!e.blocks.contains(b)) {
                throw new TransferException(
                        TransferException.Kind.FAILED, "block " + b + " is not part of transfer " + transferId);
            }
        }
        return e;
    }

    @Override
    public void read(TransferRef transfer, int[] blocks, HostBlockBuffer into) throws TransferException {
        String transferId = transfer.id();
        Exposure e = beginRead(transfer, blocks);
        try {
            int[] slots = new int[blocks.length];
            Arrays.setAll(slots, i -> i);
            CopyTicket t = copies.copyToHost(blocks, into, slots);
            t.await();
            countServed(ReadRequest.of(transfer, blocks).descriptors(), blocks.length, t.bytes());
        } catch (CopyFailedException ex) {
            throw new TransferException(
                    TransferException.Kind.FAILED,
                    "copying blocks of transfer " + transferId + " out of the KV cache failed: " + ex.getMessage(),
                    ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new TransferException(TransferException.Kind.FAILED, "interrupted", ex);
        } finally {
            endRead(e);
        }
    }

    /**
     * {@inheritDoc} Where the engine's copy service sends from its KV cache ({@link
     * BlockCopyService#openSend}); empty for a device's KV cache, which is staged as before.
     */
    @Override
    public Optional<DirectSend> openSend(TransferRef transfer, int[] blocks) throws TransferException {
        if (!sendsDirectly) {
            return Optional.empty();
        }
        Exposure e = beginRead(transfer, blocks);
        Optional<BlockSend> opened;
        try {
            opened = copies.openSend(blocks);
        } catch (CopyFailedException ex) {
            endRead(e);
            throw new TransferException(
                    TransferException.Kind.FAILED,
                    "sending blocks of transfer " + transfer.id() + " out of the KV cache failed: " + ex.getMessage(),
                    ex);
        } catch (RuntimeException ex) {
            endRead(e);
            throw ex;
        }
        if (opened.isEmpty()) {
            // Not host memory: the answer will not change, so later reads go straight to staging.
            sendsDirectly = false;
            endRead(e);
            return Optional.empty();
        }
        BlockSend send = opened.get();
        long descriptors = ReadRequest.of(transfer, blocks).descriptors();
        return Optional.of(DirectSend.of(send, "blocks of transfer " + transfer.id(), () -> {
            endRead(e);
            // Served once every byte went out; a send cut short is the reader's failed read.
            if (send.remaining() == 0) {
                count("reads_served_direct", 1);
                countServed(descriptors, blocks.length, send.bytes());
            }
        }));
    }

    /**
     * Starts a read of {@code blocks} of {@code transfer}: checks it ({@link #readable}), renews the
     * lease and holds the exposure, so its blocks are not reported finished under the read, until
     * {@link #endRead}.
     */
    private synchronized Exposure beginRead(TransferRef transfer, int[] blocks) throws TransferException {
        Exposure e = readable(transfer, blocks);
        Instant renewed = clock.instant().plus(config.leaseTimeout());
        if (renewed.isAfter(e.deadline)) {
            e.deadline = renewed;
        }
        e.inFlight++;
        return e;
    }

    /** A read's hold on its exposure ended. */
    private synchronized void endRead(Exposure e) {
        e.inFlight--;
    }

    /** Counts a read served whole, however its blocks left. */
    private void countServed(long descriptors, int blocks, long bytes) {
        count("reads_served", 1);
        count("descriptors_served", descriptors);
        count("blocks_sent", blocks);
        count("bytes_sent", bytes);
    }

    @Override
    public void done(TransferRef transfer, long connection) throws TransferException {
        String transferId = transfer.id();
        synchronized (this) {
            Exposure e = exposures.get(transferId);
            if (e != null && !e.transfer.tokenMatches(transfer.token())) {
                refusedToken("notifications_refused_token", "done notification", transfer);
                throw new TransferException(
                        TransferException.Kind.FAILED,
                        "the token presented for transfer " + transferId + " is not its token; nothing was freed");
            }
            if (e == null) {
                if (tombstones.containsKey(transferId)) {
                    duplicateDone(transferId, "already " + tombstones.get(transferId));
                } else {
                    // Possibly ahead of the metadata that exposes it; remembered, bounded.
                    count("notifications_unknown", 1);
                    if (EventCounters.worthLogging(++unknownDones)) {
                        // The id is the peer's word: printable and cut short.
                        LOG.info(
                                "nixl-like: done for unknown transfer {}; remembered in case it is exposed later ({} so "
                                        + "far; logged at the 1st, 2nd, 4th, 8th, ...)",
                                Peers.printable(transferId),
                                unknownDones);
                    }
                    // Its token is checked when the transfer is exposed.
                    earlyDone.put(transferId, connection, transfer.token());
                }
                return;
            }
            if (!e.state.equals("live")) {
                duplicateDone(transferId, e.state);
                return;
            }
            e.state = "done";
            count("notifications_received", 1);
        }
    }

    /**
     * Counts a done notification for a transfer that already ended and logs it (the first, second,
     * fourth, ...: a notice names up to a thousand transfers). Caller holds the lock.
     */
    private void duplicateDone(String transferId, String state) {
        count("notifications_duplicate", 1);
        if (EventCounters.worthLogging(++duplicateDones)) {
            LOG.info(
                    "nixl-like: duplicate done for transfer {} ({}); ignored ({} so far; logged at the 1st, 2nd, 4th, "
                            + "8th, ...)",
                    transferId,
                    state,
                    duplicateDones);
        }
    }

    /** Takes a notice's transfers under one hold of the lock, each as {@link #done(TransferRef, long)}. */
    @Override
    public synchronized void done(List<TransferRef> transfers, long connection) throws TransferException {
        BlockSource.super.done(transfers, connection);
    }

    /**
     * Counts a request that presented a wrong token and logs it (the first, second, fourth, ... of
     * each kind: an authenticated peer polling transfer ids must not flood the log).
     */
    private void refusedToken(String counter, String what, TransferRef transfer) {
        long n;
        synchronized (this) {
            count(counter, 1);
            n = ++tokenRefusals;
        }
        if (EventCounters.worthLogging(n)) {
            LOG.warn(
                    "nixl-like: refused a {} of transfer {}: the token presented is not the transfer's ({} refusal(s) "
                            + "so far)",
                    what,
                    transfer,
                    n);
        }
    }

    /** Marks {@code e} expired. Caller holds the lock. */
    private void expire(Exposure e) {
        e.state = "expired";
        count("leases_expired", 1);
        LOG.warn(
                "nixl-like: the lease of transfer {} (request {}) expired after {} without a read or notification; "
                        + "freeing its blocks, later reads are refused",
                e.transferId,
                e.requestId,
                config.leaseTimeout());
    }

    // ---- every step ----------------------------------------------------------------------------

    /**
     * Ends the exposures whose lease expired, then reports what finished since the previous report:
     * transfers ended with no read copying their blocks (finished sends), loads that ended
     * (finished receives), the blocks of failed loads, and the counters.
     */
    @Override
    public synchronized WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        if (!exposures.isEmpty()) {
            Instant now = clock.instant();
            for (Iterator<Exposure> it = exposures.values().iterator(); it.hasNext(); ) {
                Exposure e = it.next();
                if (e.state.equals("live") && now.isAfter(e.deadline)) {
                    expire(e);
                }
                if (!e.state.equals("live") && e.inFlight == 0) {
                    it.remove();
                    tombstones.put(e.transferId, e.state.equals("expired") ? "expired" : "completed");
                    finishedSends.add(e.requestId);
                }
            }
        }
        Optional<ConnectorStats> stats = takeStats();
        if (finishedSends.isEmpty() && received.isEmpty() && failedBlocks.isEmpty() && stats.isEmpty()) {
            return WorkerStepReport.EMPTY;
        }
        WorkerStepReport report = WorkerStepReport.builder()
                .addFinishedSending(finishedSends)
                .addFinishedReceiving(received)
                .addInvalidBlockIds(failedBlocks)
                .stats(stats)
                .build();
        finishedSends.clear();
        received.clear();
        failedBlocks.clear();
        return report;
    }

    @Override
    public Optional<HandshakeMetadata> handshakeMetadata() {
        return listener == null ? Optional.empty() : Optional.of(new PortsMetadata(Map.of(rank, listener.port())));
    }

    /** The counters since the previous call, then zero; caller holds the lock. */
    private Optional<ConnectorStats> takeStats() {
        if (!reportedTransport) {
            reportedTransport = true;
            counters.merge("transport_" + transport.name() + "_workers", 1L, Long::sum);
        }
        transport.takeCounters().forEach((k, v) -> counters.merge(k, v, Long::sum));
        if (listener != null) {
            listener.takeCounters().forEach((k, v) -> counters.merge(k, v, Long::sum));
        }
        if (counters.isEmpty()) {
            return Optional.empty();
        }
        var s = new CounterStats(counters);
        counters.clear();
        return Optional.of(s);
    }

    private synchronized void count(String name, long n) {
        counters.merge(name, n, Long::sum);
    }

    @Override
    public void shutdown() {
        synchronized (this) {
            if (shutDown) {
                return;
            }
            shutDown = true;
        }
        if (listener != null) {
            listener.close();
        }
        if (lanes != null) {
            try {
                // Closing the connections unblocks the reads in progress.
                if (!lanes.shutdown(() -> peers.values().forEach(Peer::close), 5_000)) {
                    LOG.warn("nixl-like: worker {}'s readers did not stop within 5 s", rank);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            peers.values().forEach(Peer::close);
            peers.clear();
        }
    }
}
