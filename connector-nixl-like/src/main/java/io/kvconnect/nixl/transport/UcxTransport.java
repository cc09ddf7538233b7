package io.kvconnect.nixl.transport;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.Handshake;
import io.kvconnect.nixl.protocol.ReadRequest;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import io.kvconnect.nixl.protocol.Wire;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpMemMapParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpParams;
import org.openucx.jucx.ucp.UcpRemoteKey;
import org.openucx.jucx.ucp.UcpRequest;
import org.openucx.jucx.ucp.UcpWorker;
import org.openucx.jucx.ucp.UcpWorkerParams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The UCX backend through JUCX: block data moves by one-sided RMA gets issued by the reader from
 * the producer's registered staging memory; the producer's CPU only copies the blocks into staging.
 * UCX picks the wire itself: shared memory (cma) between processes of one host, TCP or RDMA between
 * hosts ({@code UCX_TLS} and the other {@code UCX_*} variables of the environment apply).
 *
 * <p><b>Control.</b> Connection, mutual authentication and compatibility fields ({@link
 * Handshake}), request framing, bounded waits and the {@code DONE} notification are {@link
 * TcpTransport}'s, on a TCP control connection to the same port; this class adds four frames to
 * it. After the handshake the reader sends {@code UCX_ATTACH} with the most blocks one of its reads
 * names and whether it verifies its reads; the producer allocates and registers staging memory of
 * exactly that many blocks for the connection and answers {@code OK} with its UCX worker address
 * and the memory's description (regions, base addresses, remote keys: {@link StagedMemory}), which
 * the reader checks against what it asked for and the block size of the handshake. A read is
 * {@code STAGE} (transfer, token and runs of block ids, like {@code READ}), answered by {@code
 * ERROR} or by {@code STAGED} repeating the description, then, to a reader that verifies its
 * reads, by a {@code CHECKSUM} frame ({@link StagedChecksum}). The reader refuses an answer that
 * describes anything else ({@code UNTRUSTED}) before any get, then gets the blocks straight into
 * its own registered buffer, with addresses and lengths computed from the attach-time regions
 * only, so no answer can steer a get outside the memory the producer registered for it, and (if it
 * verifies) refuses the read if what it got does not match the checksum. The producer rewrites
 * staging only on the connection's next request, which the reader sends after its gets completed,
 * so a get never sees a half-written block. Where the producer has no UCX (its handshake says
 * {@code transport=tcp}, or it refuses the attach) the reader falls back to plain TCP reads on the
 * same connection.
 *
 * <p><b>Registration.</b> Memory is registered once, not per transfer: the producer registers each
 * connection's staging buffer when the reader attaches, and the reader the buffer it reads into
 * (the consumer worker's one staging buffer). Remote keys are unpacked once, at the attach.
 *
 * <p><b>Failure.</b> Endpoints are created without UCX's peer error handling: in UCX 1.13 that mode
 * excludes the shared-memory transports. A dead producer is detected by the control connection
 * instead, and every get is bounded by {@code io_timeout}, at most {@link #MAX_GET_WAIT} (then
 * cancelled: {@code TIMEOUT}). Native resources (endpoints, workers, registrations, remote keys and
 * the process-wide context, counted) are released on close.
 *
 * <p>Thread-safe; one instance serves one worker. The producer's UCX worker is progressed by one
 * thread per listener; a reader's worker by the reader's thread.
 */
public final class UcxTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(UcxTransport.class);

    /**
     * How long a producer's progress thread polls after a read was staged, or after its last event
     * while it polls, before it sleeps again: bounds the core a reader that stopped reading costs.
     */
    private static final long HOT_NANOS = 2_000_000;

    /**
     * The most bytes one get moves: a read's runs are cut into pieces of whole slots of about this
     * size, so that a reader that verifies its reads checksums each piece as it arrives (see
     * {@code UcxPeer.get}).
     */
    private static final long PIECE_BYTES = 512 * 1024;

    /** Empty progress calls before a waiting reader yields its core (2-core machines). */
    private static final int SPINS_BEFORE_YIELD = 64;

    /**
     * How long a producer keeps the staging memory of a closed connection before it frees it, if
     * the connection ended while a reader's gets may have been on their way (the producer shutting
     * down, the connection broken under a read; otherwise it is freed at once). The producer's
     * worker answers each fragment of an emulated get by reading the memory it names, whatever
     * became of it: freed memory would hand the reader another allocation's bytes, or crash the
     * process if it was unmapped. A reader cancels its gets after at most {@link
     * #MAX_GET_WAIT}, which must stay below this; bytes a later one reads are refused by the
     * read's checksum ({@link StagedChecksum}) where the reader verifies its reads.
     */
    static final Duration RETIRED_FOR = Duration.ofSeconds(10);

    /**
     * How long a reader waits for a read's gets, whatever its {@code io_timeout}: well inside
     * {@link #RETIRED_FOR}, so that no get of a reader's reaches a producer's staging memory after
     * the producer freed it. The reader's {@code io_timeout} is not known to the producer, and the
     * default (10 s) already equalled it.
     */
    static final Duration MAX_GET_WAIT = Duration.ofSeconds(8);

    /** The wait for a read's gets under {@code io_timeout} {@code ioMillis}: the shorter of it and {@link #MAX_GET_WAIT}. */
    static long getWaitMillis(long ioMillis) {
        return Math.min(ioMillis, MAX_GET_WAIT.toMillis());
    }

    /**
     * Whether UCX can be used in this process.
     *
     * @param available whether JUCX's native library loaded and a UCX context could be created
     * @param reason why not, or what was found
     */
    public record Availability(boolean available, String reason) {}

    /** Probed once, on first use (lazy holder: loading the native library is not free). */
    private static final class Probe {
        static final Availability RESULT = probe();
    }

    /** Whether UCX works here; probed once per process. Never throws. */
    public static Availability availability() {
        return Probe.RESULT;
    }

    private static Availability probe() {
        try {
            UcpContext c = new UcpContext(params());
            c.close();
            return new Availability(true, "JUCX loaded and a UCX context was created");
        } catch (LinkageError | RuntimeException e) {
            // LinkageError: the jar or libucp is missing or lacks a symbol; UcxException (a
            // RuntimeException): UCX is installed but cannot initialise.
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return new Availability(false, why + " (install UCX: on Debian apt-get install libucx0)");
        }
    }

    private static UcpParams params() {
        // Shared workers: registrations are made on connection threads while a progress thread
        // runs; mt_workers_shared makes the context's calls thread-safe.
        return new UcpParams().requestRmaFeature().requestWakeupFeature().setMtWorkersShared(true);
    }

    // ---- the process-wide context, counted -------------------------------------------------

    private static final Object CONTEXT_LOCK = new Object();
    private static UcpContext context;
    private static int users;

    /** The shared context; every call is paired with {@link #release()}. */
    private static UcpContext acquire() {
        synchronized (CONTEXT_LOCK) {
            if (context == null) {
                context = new UcpContext(params());
            }
            users++;
            return context;
        }
    }

    private static void release() {
        synchronized (CONTEXT_LOCK) {
            if (--users == 0) {
                context.close();
                context = null;
            }
        }
    }

    @Override
    public String name() {
        return "ucx";
    }

    @Override
    public Listener listen(String host, int port, Compat local, ListenOptions options, BlockSource source)
            throws IOException {
        UcxServer server = new UcxServer(local);
        try {
            return TcpTransport.listen(host, port, local.withTransport(name()), options, source, server);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    @Override
    public Peer connect(String host, int port, Compat local, ConnectOptions options) throws TransferException {
        long io = TcpTransport.timeoutMillis(options.ioTimeout());
        if (io > MAX_GET_WAIT.toMillis()) {
            LOG.info(
                    "nixl-like: io_timeout is {} ms, but a UCX read's gets are cancelled after {} s, within the time"
                            + " a producer keeps a closed connection's memory",
                    io,
                    MAX_GET_WAIT.toSeconds());
        }
        TcpTransport.Control c = TcpTransport.openControl(host, port, local.withTransport(name()), options);
        var control = new TcpTransport.TcpPeer(c.wire(), c.remote(), c.where(), io);
        if (!name().equals(c.remote().transport())) {
            LOG.info(
                    "nixl-like: the producer at {} runs transport {}; reading over tcp",
                    c.where(),
                    c.remote().transport());
            return control;
        }
        StagedMemory staged;
        try {
            c.wire()
                    .writeFrame(
                            Frames.UCX_ATTACH,
                            ByteBuffer.allocate(5)
                                    .putInt(options.readSlots())
                                    .put((byte) (options.verifyReads() ? 1 : 0))
                                    .array(),
                            io);
            var h = c.wire().readHeader(io);
            byte[] answer = c.wire().readPayload(h, io);
            if (h.type() == Frames.ERROR) {
                LOG.warn(
                        "nixl-like: the producer at {} refused UCX ({}); reading over tcp",
                        c.where(),
                        Frames.errorMessage(answer));
                return control;
            }
            if (h.type() != Frames.OK) {
                throw new IOException("answered the UCX attach with message type " + h.type());
            }
            try {
                staged = StagedMemory.parse(
                        answer, options.readSlots(), c.remote().bytesPerBlock());
            } catch (IOException e) {
                // Before any remote key is unpacked or memory touched.
                throw new TransferException(
                        TransferException.Kind.UNTRUSTED,
                        "UCX attach to " + c.where()
                                + ": the producer described staging memory that does not fit what was agreed: "
                                + e.getMessage());
            }
        } catch (TransferException e) {
            control.close();
            throw e;
        } catch (IOException | RuntimeException e) {
            control.close();
            throw TcpTransport.classify(e, "UCX attach to " + c.where());
        }
        try {
            return new UcxPeer(control, staged, options.verifyReads());
        } catch (RuntimeException e) {
            // UCX cannot reach the producer (no common transport): the control connection still can.
            LOG.warn("nixl-like: no UCX endpoint to {} ({}); reading over tcp", c.where(), e.toString());
            return control;
        }
    }

    static ByteBuffer direct(byte[] bytes) {
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    // ---- registration --------------------------------------------------------------------------

    /**
     * A host buffer registered with UCX: one region per run of contiguous slots (one for the
     * engine's buffers, whose slots are contiguous). Owned by one thread; {@link #close()}
     * deregisters and must run before the buffer is freed.
     */
    private static final class Registration implements AutoCloseable {
        private static final AtomicLong GENERATIONS = new AtomicLong();

        /** A registered run of slots. */
        record Region(int firstSlot, int slots, long address, UcpMemory memory) {}

        final HostBlockBuffer buffer;
        final long generation = GENERATIONS.incrementAndGet();
        final List<Region> regions = new ArrayList<>();
        private byte[] description;

        Registration(UcpContext ctx, HostBlockBuffer buffer) {
            this.buffer = buffer;
            int n = buffer.numSlots();
            long sb = buffer.slotBytes();
            try {
                int first = 0;
                for (int i = 1; i <= n; i++) {
                    long start = buffer.slot(first).address();
                    if (i == n || buffer.slot(i).address() != start + (i - first) * sb) {
                        UcpMemory m = ctx.memoryMap(
                                new UcpMemMapParams().setAddress(start).setLength((i - first) * sb));
                        regions.add(new Region(first, i - first, start, m));
                        first = i;
                    }
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        /**
         * The {@code STAGED} description: generation, slot bytes, then per region its slots, address
         * and remote key. Packed once per registration (remote keys are not free to pack).
         */
        byte[] describe() {
            if (description == null) {
                var keys = new ArrayList<byte[]>();
                int size = 8 + 8 + 4;
                for (Region r : regions) {
                    byte[] k = bytes(r.memory().getRemoteKeyBuffer());
                    keys.add(k);
                    size += 4 + 4 + 8 + 4 + k.length;
                }
                ByteBuffer b = ByteBuffer.allocate(size)
                        .putLong(generation)
                        .putLong(buffer.slotBytes())
                        .putInt(regions.size());
                for (int i = 0; i < regions.size(); i++) {
                    Region r = regions.get(i);
                    b.putInt(r.firstSlot())
                            .putInt(r.slots())
                            .putLong(r.address())
                            .putInt(keys.get(i).length)
                            .put(keys.get(i));
                }
                description = b.array();
            }
            return description;
        }

        long address(int slot) {
            for (Region r : regions) {
                if (slot >= r.firstSlot() && slot < r.firstSlot() + r.slots()) {
                    return r.address() + (slot - r.firstSlot()) * buffer.slotBytes();
                }
            }
            throw new IndexOutOfBoundsException("slot " + slot);
        }

        @Override
        public void close() {
            for (Region r : regions) {
                try {
                    r.memory().deregister();
                } catch (RuntimeException e) {
                    LOG.warn("nixl-like: deregistering UCX memory failed: {}", e.toString());
                }
            }
            regions.clear();
        }
    }

    // ---- producer ------------------------------------------------------------------------------

    /**
     * The producer's UCX side of one listener: a worker whose address readers attach to, progressed
     * by a thread of its own (gets over TCP or RDMA-less transports need the target's progress),
     * and a handler per connection that registers its staging buffer.
     */
    private static final class UcxServer implements TcpTransport.ServerExtension {
        private final UcpContext ctx;
        private final UcpWorker worker;
        private final byte[] address;
        private final Thread progress;
        private volatile boolean closed;

        UcxServer(Compat local) throws IOException {
            try {
                ctx = acquire();
            } catch (RuntimeException e) {
                throw new IOException("UCX is not usable: " + e.getMessage(), e);
            }
            UcpWorker w = null;
            try {
                w = ctx.newWorker(new UcpWorkerParams().requestThreadSafety());
                address = bytes(w.getAddress());
            } catch (RuntimeException e) {
                if (w != null) {
                    w.close();
                }
                release();
                throw new IOException("cannot create a UCX worker: " + e.getMessage(), e);
            }
            worker = w;
            progress = Thread.ofPlatform()
                    .daemon()
                    .name("nixl-ucx-progress-" + local.engineId() + "-" + local.rank())
                    .start(this::progressLoop);
        }

        /**
         * Until when ({@link System#nanoTime()}) the progress thread polls instead of sleeping:
         * set when a read was staged and extended by every event after it.
         */
        private volatile long hotUntil;

        /**
         * A reader's gets are about to arrive (its read was just staged): poll for them rather than
         * sleep. Between processes on one host UCX 1.13 emulates a get in software over shared
         * memory, so each fragment of it needs this worker's progress; waking from {@code
         * waitForEvents} for each cost hundreds of microseconds on a busy host. Called by a
         * connection thread.
         */
        void heat() {
            hotUntil = System.nanoTime() + HOT_NANOS;
            worker.signal();
        }

        private void progressLoop() {
            while (!closed) {
                try {
                    if (worker.progress() > 0) {
                        // Fragments of an emulated get come in bursts: keep polling while they do.
                        if (hotUntil - System.nanoTime() > 0) {
                            hotUntil = System.nanoTime() + HOT_NANOS;
                        }
                    } else if (hotUntil - System.nanoTime() > 0) {
                        Thread.yield(); // the reader may need this core to issue its gets
                    } else if (!closed) {
                        worker.waitForEvents(); // woken by UCX events, heat() or close's signal()
                    }
                } catch (Exception e) {
                    if (!closed) {
                        LOG.error("nixl-like: UCX progress failed; UCX reads of this worker stop: {}", e.toString());
                    }
                    return;
                }
            }
        }

        @Override
        public TcpTransport.ConnectionExtension open(String who, BlockSource source) {
            return new UcxConnection(who, source);
        }

        /** A closed connection's staging memory and when it was retired ({@link System#nanoTime()}). */
        private record Retired(TcpTransport.Staging staging, long since) {}

        /** Staging memory of closed connections, oldest first, until freed. Guarded by itself. */
        private final ArrayDeque<Retired> retired = new ArrayDeque<>();

        /** Set once the worker is closed: nothing can read staging memory any more. Guarded by {@link #retired}. */
        private boolean workerClosed;

        /**
         * A connection thread, as its connection ends (its registration already closed): keeps the
         * staging memory for {@link #RETIRED_FOR}, then frees it (at once if the worker is closed).
         */
        void retire(TcpTransport.Staging staging) {
            synchronized (retired) {
                if (!workerClosed) {
                    retired.addLast(new Retired(staging, System.nanoTime()));
                    Thread.ofVirtual().name("nixl-ucx-retired").start(this::freeRetiredWhenDue);
                    return;
                }
            }
            staging.close();
        }

        /** Sleeps for the retirement time, then frees every retired staging memory that is due. */
        private void freeRetiredWhenDue() {
            try {
                Thread.sleep(RETIRED_FOR);
            } catch (InterruptedException e) {
                return; // the server closes it
            }
            List<TcpTransport.Staging> due = new ArrayList<>();
            synchronized (retired) {
                long now = System.nanoTime();
                while (!retired.isEmpty() && now - retired.peekFirst().since() >= RETIRED_FOR.toNanos()) {
                    due.add(retired.pollFirst().staging());
                }
            }
            due.forEach(TcpTransport.Staging::close);
        }

        /** After the worker closed: frees every retired staging memory. */
        private void freeAllRetired() {
            List<TcpTransport.Staging> all = new ArrayList<>();
            synchronized (retired) {
                workerClosed = true;
                retired.forEach(r -> all.add(r.staging()));
                retired.clear();
            }
            all.forEach(TcpTransport.Staging::close);
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            worker.signal();
            try {
                progress.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (progress.isAlive()) {
                // Closing a worker another thread is progressing would crash the process: leak it.
                // Retired staging memory is still freed when due.
                LOG.error("nixl-like: UCX progress thread did not stop; leaving its worker open");
                return;
            }
            worker.close();
            // Only now: no get can be answered from this memory any more.
            freeAllRetired();
            release();
        }

        /**
         * One reader's connection: the staging memory allocated and registered when it attached,
         * the only memory its gets may reach.
         */
        private final class UcxConnection implements TcpTransport.ConnectionExtension {
            private final String who;
            private final BlockSource source;
            private TcpTransport.Staging staging;
            private Registration registration;
            /** Whether the reader verifies its reads: then each staged answer is followed by a checksum. */
            private boolean checksums;

            /**
             * Whether the reader may still be getting from the staging memory: from a {@code
             * STAGED} answer until the reader's next frame. A reader sends its next frame only
             * after its gets completed, so once one arrived no get of its can be on its way.
             */
            private boolean getsMayBeInFlight;

            private boolean released;

            UcxConnection(String who, BlockSource source) {
                this.who = who;
                this.source = source;
                // Its own reference: a handler that outlives the listener's bounded wait in close()
                // must not deregister memory on a context already cleaned up.
                acquire();
            }

            @Override
            public void frameArrived() {
                getsMayBeInFlight = false;
            }

            @Override
            public boolean handle(Wire.Header h, byte[] payload, Wire wire, long sendMillis) throws IOException {
                switch (h.type()) {
                    case Frames.UCX_ATTACH -> {
                        attach(payload, wire, sendMillis);
                        return true;
                    }
                    case Frames.STAGE -> {
                        if (registration == null) {
                            refuse(wire, "STAGE before UCX_ATTACH on this connection", sendMillis);
                            return true;
                        }
                        var req = ReadRequest.decode(payload);
                        HostBlockBuffer filled;
                        try {
                            filled = staging.fill(req);
                        } catch (TransferException e) {
                            wire.writeFrame(Frames.ERROR, Frames.errorPayload(e.kind(), e.getMessage()), sendMillis);
                            return true;
                        }
                        heat();
                        getsMayBeInFlight = true;
                        wire.writeFrame(Frames.STAGED, registration.describe(), sendMillis);
                        if (checksums) {
                            // After the answer: computed while the reader's gets run, not before
                            // them. fill checked the count: at most the attach's slots.
                            int checksum = StagedChecksum.of(filled, (int) req.blockCount());
                            wire.writeFrame(
                                    Frames.CHECKSUM,
                                    ByteBuffer.allocate(StagedChecksum.BYTES)
                                            .putInt(checksum)
                                            .array(),
                                    sendMillis);
                        }
                        return true;
                    }
                    default -> {
                        return false;
                    }
                }
            }

            /** Allocates and registers the connection's staging memory and describes it to the reader. */
            private void attach(byte[] payload, Wire wire, long sendMillis) throws IOException {
                if (payload.length != 5 || (payload[4] != 0 && payload[4] != 1)) {
                    throw new IOException("malformed UCX attach of " + payload.length + " bytes");
                }
                int slots = ByteBuffer.wrap(payload).getInt();
                if (registration != null) {
                    refuse(wire, "this connection is attached already", sendMillis);
                    return;
                }
                if (slots < 1 || slots > ReadRequest.MAX_BLOCKS) {
                    refuse(
                            wire,
                            "asks for " + slots + " staging slots; 1 to " + ReadRequest.MAX_BLOCKS + " are allowed",
                            sendMillis);
                    return;
                }
                try {
                    staging = TcpTransport.Staging.fixed(source, slots);
                    registration = new Registration(ctx, staging.buffer());
                    checksums = payload[4] == 1;
                } catch (RuntimeException e) {
                    if (staging != null) {
                        staging.close();
                        staging = null;
                    }
                    refuse(wire, "cannot register staging memory with UCX: " + e.getMessage(), sendMillis);
                    return;
                }
                byte[] head = ByteBuffer.allocate(4 + address.length)
                        .putInt(address.length)
                        .put(address)
                        .array();
                wire.writeFrame(Frames.OK, Frames.concat(head, registration.describe()), sendMillis);
                LOG.debug("nixl-like: reader {} attached over UCX ({} staging slots)", who, slots);
            }

            private static void refuse(Wire wire, String why, long sendMillis) throws IOException {
                wire.writeFrame(Frames.ERROR, Frames.errorPayload(TransferException.Kind.FAILED, why), sendMillis);
            }

            @Override
            public void close() {
                // Deregistered before the memory is freed.
                if (registration != null) {
                    registration.close();
                    registration = null;
                }
                if (staging != null) {
                    if (getsMayBeInFlight) {
                        // Not freed yet: a get of the reader's may still be on its way (see RETIRED_FOR).
                        retire(staging);
                    } else {
                        staging.close();
                    }
                    staging = null;
                }
                if (!released) {
                    released = true;
                    release();
                }
            }
        }
    }

    // ---- reader --------------------------------------------------------------------------------

    /**
     * A reader's connection: the TCP control peer plus a UCX worker and endpoint of its own, used
     * by the reader's thread only (the peer contract: one thread at a time).
     */
    private static final class UcxPeer implements Peer {
        private final TcpTransport.TcpPeer control;
        private final StagedMemory staged;
        /** Whether each read's blocks are checked against the producer's checksum. */
        private final boolean verifyReads;

        private final UcpContext ctx;
        private final UcpWorker worker;
        private final UcpEndpoint endpoint;
        /** The unpacked remote key of each region of {@link #staged}, same order. */
        private final List<UcpRemoteKey> keys = new ArrayList<>();

        private Registration local;
        private boolean broken;
        /** Set by {@link #close()} from any thread; a get in progress sees it and stops. */
        private volatile boolean closed;

        private boolean released;

        UcxPeer(TcpTransport.TcpPeer control, StagedMemory staged, boolean verifyReads) {
            this.control = control;
            this.staged = staged;
            this.verifyReads = verifyReads;
            this.ctx = acquire();
            UcpWorker w = null;
            UcpEndpoint e = null;
            try {
                w = ctx.newWorker(new UcpWorkerParams().requestThreadSafety());
                e = w.newEndpoint(new UcpEndpointParams().setUcpAddress(direct(staged.workerAddress())));
                for (StagedMemory.Region r : staged.regions()) {
                    keys.add(e.unpackRemoteKey(direct(r.key())));
                }
                this.endpoint = e;
                this.worker = w;
            } catch (RuntimeException ex) {
                keys.forEach(UcpRemoteKey::close);
                keys.clear();
                if (e != null) {
                    e.close();
                }
                if (w != null) {
                    w.close();
                }
                release();
                throw ex;
            }
        }

        @Override
        public Compat remote() {
            return control.remote();
        }

        @Override
        public synchronized void read(TransferRef transfer, int[] remoteBlocks, HostBlockBuffer into)
                throws TransferException {
            if (remoteBlocks.length > into.numSlots()
                    || remoteBlocks.length > staged.slots()
                    || into.slotBytes() != staged.slotBytes()) {
                throw new IllegalArgumentException(remoteBlocks.length + " blocks do not fit " + into.numSlots()
                        + " slots of " + into.slotBytes() + " bytes, or the " + staged.slots() + " staged slots of "
                        + staged.slotBytes() + " agreed at the attach");
            }
            String what = "UCX read of transfer " + transfer + " from " + control.where();
            if (broken || closed) {
                throw new TransferException(
                        TransferException.Kind.FAILED, what + ": the connection is " + (closed ? "closed" : "broken"));
            }
            Wire wire = control.wire();
            long io = control.ioMillis();
            boolean refused = false;
            try {
                if (local == null || local.buffer != into) {
                    // Once per reader buffer (the consumer worker reads into one buffer for good).
                    if (local != null) {
                        local.close();
                    }
                    local = null;
                    local = new Registration(ctx, into);
                }
                wire.writeFrame(
                        Frames.STAGE, ReadRequest.of(transfer, remoteBlocks).encode(), io);
                var h = wire.readHeader(io);
                byte[] answer = wire.readPayload(h, io);
                if (h.type() == Frames.ERROR) {
                    refused = true; // a clean answer: the connection is still in step
                    throw new TransferException(Frames.errorKind(answer), what + ": " + Frames.errorMessage(answer));
                }
                if (h.type() != Frames.STAGED) {
                    throw new IOException("expected STAGED, got message type " + h.type());
                }
                if (!staged.matches(answer)) {
                    throw new TransferException(
                            TransferException.Kind.UNTRUSTED,
                            what + ": the producer's answer "
                                    + "describes staging memory other than what it registered when this reader attached; "
                                    + "nothing was read");
                }
                int got = get(remoteBlocks.length, into, verifyReads, io, what);
                if (verifyReads && got != readChecksum(wire, io)) {
                    throw new TransferException(
                            TransferException.Kind.FAILED,
                            what + ": the blocks got do not match the checksum the producer staged them with "
                                    + "(its staging memory changed under the gets: the producer closed the "
                                    + "connection or shut down meanwhile); nothing of this read may be used");
                }
            } catch (TransferException e) {
                broken = !refused;
                throw e;
            } catch (IOException | RuntimeException e) {
                broken = true;
                throw TcpTransport.classify(e, what);
            }
        }

        /**
         * Gets slots {@code 0 .. n - 1} of {@code into}: one get per run of slots contiguous on both
         * sides, cut into pieces of at most {@link #PIECE_BYTES} (whole slots), all in flight at
         * once. Remote addresses and lengths come from the attach-time regions only, and each is
         * checked to lie inside its region before the get is issued.
         *
         * <p>With {@code checksum}, returns the CRC32C of the slots' bytes in order ({@link
         * StagedChecksum}), computed piece by piece as the pieces complete, in order: the checksum
         * takes the time this thread would otherwise spend polling for the later pieces, on bytes
         * that have just arrived. Without, returns 0.
         */
        private int get(int n, HostBlockBuffer into, boolean checksum, long io, String what) throws TransferException {
            long slotBytes = staged.slotBytes();
            int slotsPerPiece = (int) Math.max(1, PIECE_BYTES / slotBytes);
            var failure = new String[1];
            UcxCallback callback = new UcxCallback() {
                @Override
                public void onError(int status, String message) {
                    failure[0] = "UCX status " + status + ": " + message;
                }
            };
            var requests = new ArrayList<UcpRequest>();
            /* The first slot of each piece, and n after the last. */
            var firstSlots = new ArrayList<Integer>();
            int i = 0;
            while (i < n) {
                StagedMemory.Region r = staged.regionOf(i);
                UcpRemoteKey key = keys.get(staged.regions().indexOf(r));
                long ra = r.address() + (i - r.firstSlot()) * slotBytes;
                long la = local.address(i);
                int j = i + 1;
                while (j < n
                        && j - i < slotsPerPiece
                        && j < r.firstSlot() + r.slots()
                        && local.address(j) == la + (j - i) * slotBytes) {
                    j++;
                }
                long length = (j - i) * slotBytes;
                if (!r.contains(ra, length, slotBytes)) {
                    throw new TransferException(
                            TransferException.Kind.UNTRUSTED,
                            what + ": a get of " + length + " bytes at " + Long.toUnsignedString(ra)
                                    + " lies outside the staged region");
                }
                requests.add(endpoint.getNonBlocking(ra, key, la, length, callback));
                firstSlots.add(i);
                i = j;
            }
            firstSlots.add(n);
            var crc = new CRC32C();
            long deadline = System.nanoTime() + getWaitMillis(io) * 1_000_000L;
            int idle = 0;
            int next = 0; // the next piece to checksum, in order
            try {
                while (next < requests.size()) {
                    if (requests.get(next).isCompleted()) {
                        if (checksum) {
                            StagedChecksum.update(crc, into, firstSlots.get(next), firstSlots.get(next + 1));
                        }
                        next++;
                        continue;
                    }
                    if (worker.progress() == 0 && ++idle % SPINS_BEFORE_YIELD == 0) {
                        Thread.yield(); // the producer's progress thread may need this core
                    }
                    if (closed || System.nanoTime() - deadline > 0) {
                        for (UcpRequest q : requests) {
                            if (!q.isCompleted()) {
                                worker.cancelRequest(q);
                            }
                        }
                        throw closed
                                ? new TransferException(TransferException.Kind.FAILED, what + ": closed")
                                : new TransferException(TransferException.Kind.TIMEOUT, what + ": no answer in time");
                    }
                }
            } catch (TransferException e) {
                throw e;
            } catch (Exception e) {
                throw new TransferException(TransferException.Kind.FAILED, what + ": " + e, e);
            }
            if (failure[0] != null) {
                throw new TransferException(TransferException.Kind.FAILED, what + ": " + failure[0]);
            }
            return checksum ? StagedChecksum.value(crc) : 0;
        }

        /** The {@code CHECKSUM} frame that follows a {@code STAGED} answer to a reader that verifies. */
        private static int readChecksum(Wire wire, long io) throws IOException {
            var h = wire.readHeader(io);
            byte[] payload = wire.readPayload(h, io);
            if (h.type() != Frames.CHECKSUM || payload.length != StagedChecksum.BYTES) {
                throw new IOException("expected a CHECKSUM of " + StagedChecksum.BYTES + " bytes, got message type "
                        + h.type() + " of " + payload.length + " bytes");
            }
            return ByteBuffer.wrap(payload).getInt();
        }

        @Override
        public void done(TransferRef transfer) throws TransferException {
            control.done(transfer);
        }

        @Override
        public void done(List<TransferRef> transfers) throws TransferException {
            control.done(transfers);
        }

        /**
         * Closes the control connection at once, then (once a read in progress on another thread
         * saw the flag and returned: it holds this peer's monitor) the native resources.
         */
        @Override
        public void close() {
            closed = true;
            control.close();
            synchronized (this) {
                if (!released) {
                    released = true;
                    releaseNative();
                }
            }
        }

        private void releaseNative() {
            try {
                keys.forEach(UcpRemoteKey::close);
                keys.clear();
                UcpRequest r = endpoint.closeNonBlockingForce();
                long deadline = System.nanoTime() + 1_000_000_000L;
                while (r != null && !r.isCompleted() && System.nanoTime() - deadline < 0) {
                    worker.progress();
                }
            } catch (Exception e) {
                LOG.debug("nixl-like: closing a UCX endpoint failed", e);
            }
            if (local != null) {
                local.close();
                local = null;
            }
            worker.close();
            release();
        }
    }

    /** Describes the UCX transports in use for the log (UCX itself chooses per endpoint). */
    public static String describeEnvironment() {
        String tls = System.getenv("UCX_TLS");
        return "UCX_TLS=" + (tls == null || tls.isBlank() ? "all (UCX picks: shared memory on one host)" : tls);
    }
}
