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
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpMemMapParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpParams;
import org.openucx.jucx.ucp.UcpRequest;
import org.openucx.jucx.ucp.UcpWorker;
import org.openucx.jucx.ucp.UcpWorkerParams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The UCX backend through JUCX: block data moves by UCX tagged messages that the producer sends
 * from its staging memory straight into the buffer the reader posted for them; the producer's CPU
 * only copies the blocks into staging. UCX picks the wire itself: between processes of one host,
 * a large message goes by rendezvous and the reader's kernel copies it out of the producer's
 * memory in one pass ({@code cma}, {@code process_vm_readv}); TCP or RDMA between hosts ({@code
 * UCX_TLS} and the other {@code UCX_*} variables of the environment apply).
 *
 * <p><b>Why messages, not one-sided gets.</b> UCX 1.13 has no one-sided get between two
 * processes on one host: it emulates each get in software over shared memory, so the producer's
 * UCX worker must answer every fragment of every get. On a busy host each fragment then waits for
 * the producer's progress thread to be scheduled: in the tiny model's {@code ./kvconnect disagg}
 * a 4 MiB read took about 30 ms this way. A rendezvous message needs the producer only to post it
 * and, later, to learn that it was taken; the bytes move in the reader's own progress call.
 *
 * <p><b>Control.</b> Connection, mutual authentication and compatibility fields ({@link
 * Handshake}), request framing, bounded waits and the {@code DONE} notification are {@link
 * TcpTransport}'s, on a TCP control connection to the same port; this class adds four frames to
 * it. After the handshake the reader sends {@code UCX_ATTACH} with the most blocks one of its reads
 * names, whether it verifies its reads and its own UCX worker's address; the producer allocates and
 * registers staging memory of exactly that many blocks for the connection, opens an endpoint to
 * the reader's worker and answers {@code OK} with the slots and slot bytes it staged, which the
 * reader checks against what it asked for and the block size of the handshake. A read is {@code
 * STAGE}: a tag base and the blocks per message, then the transfer, its token and runs of block
 * ids, like {@code READ}. The reader posts a receive for each message of the read (its slots in
 * pieces of whole blocks, tag base plus the piece's number) before it sends the request. The
 * producer answers {@code ERROR}, or copies the blocks into staging, sends the pieces with those
 * tags and answers {@code STAGED} with the number of messages, then, to a reader that verifies its
 * reads, a {@code CHECKSUM} frame ({@link StagedChecksum}).
 *
 * <p><b>What a reader accepts.</b> A message lands only in a receive the reader posted, for its
 * own tag, into slots of the read's own buffer, and a receive completes only with exactly the
 * bytes it asked for (a longer message fails it, a shorter one is refused): no producer can
 * write outside them. A read that completes with a message left over that no receive asked for
 * is refused ({@code UNTRUSTED}) and breaks the connection. The producer rewrites staging only on
 * the connection's next request, which the reader sends after its messages arrived, so a message
 * never carries a half-written block. Where the producer has no UCX (its handshake says {@code
 * transport=tcp}, or it refuses the attach) the reader falls back to plain TCP reads on the same
 * connection.
 *
 * <p><b>Registration.</b> Memory is registered once, not per transfer: the producer registers each
 * connection's staging buffer when the reader attaches, and the reader the buffer it reads into
 * (a read lane's staging buffer; again only when a read comes in another lane's buffer), so
 * transports that need registered memory find it.
 *
 * <p><b>Failure.</b> Endpoints are created without UCX's peer error handling: in UCX 1.13 that mode
 * excludes the shared-memory transports. A dead producer is detected by the control connection
 * instead, and every read's receives are bounded by {@code io_timeout}, at most {@link
 * #MAX_RECEIVE_WAIT} (then cancelled: {@code TIMEOUT}). Native resources (endpoints, workers,
 * registrations and the process-wide context, counted) are released on close.
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
     * The most bytes one message moves: a read's slots are cut into pieces of whole slots of about
     * this size, one message each, so that a reader that verifies its reads checksums each piece
     * as it arrives (see {@code UcxPeer.receive}).
     */
    private static final long PIECE_BYTES = 512 * 1024;

    /** Empty progress calls before a waiting reader yields its core (2-core machines). */
    private static final int SPINS_BEFORE_YIELD = 64;

    /**
     * How long a producer keeps the staging memory of a closed connection before it frees it, if
     * the connection ended while a read's messages may have been on their way (the producer
     * shutting down, the connection broken under a read; otherwise it is freed at once). A message
     * posted from staging is read from that memory when UCX moves it, whatever became of it: by
     * the reader's kernel (rendezvous over {@code cma}), or by the producer's own worker where UCX
     * sends it in fragments. Freed memory would hand the reader another allocation's bytes, or
     * crash the producer if it was unmapped. A reader cancels its receives after at most {@link
     * #MAX_RECEIVE_WAIT}, which must stay below this; bytes a later one takes are refused by the
     * read's checksum ({@link StagedChecksum}) where the reader verifies its reads.
     */
    static final Duration RETIRED_FOR = Duration.ofSeconds(10);

    /**
     * How long a reader waits for a read's messages, whatever its {@code io_timeout}: well inside
     * {@link #RETIRED_FOR}, so that no message reaches a producer's staging memory after the
     * producer freed it. The reader's {@code io_timeout} is not known to the producer, and the
     * default (10 s) already equalled it.
     */
    static final Duration MAX_RECEIVE_WAIT = Duration.ofSeconds(8);

    /**
     * The wait for a read's messages under {@code io_timeout} {@code ioMillis}: the shorter of it
     * and {@link #MAX_RECEIVE_WAIT}.
     */
    static long receiveWaitMillis(long ioMillis) {
        return Math.min(ioMillis, MAX_RECEIVE_WAIT.toMillis());
    }

    /** Bits of a tag that number the messages of one read; the bits above number the read. */
    static final int PIECE_BITS = 32;

    /** Longest UCX worker address a producer accepts in an attach (UCX's are a few hundred bytes). */
    static final int MAX_WORKER_ADDRESS = 16 * 1024;

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
        return new UcpParams().requestTagFeature().requestWakeupFeature().setMtWorkersShared(true);
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
        if (io > MAX_RECEIVE_WAIT.toMillis()) {
            LOG.info(
                    "nixl-like: io_timeout is {} ms, but a UCX read's receives are cancelled after {} s, within the"
                            + " time a producer keeps a closed connection's memory",
                    io,
                    MAX_RECEIVE_WAIT.toSeconds());
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
        ReaderWorker reader;
        try {
            reader = new ReaderWorker();
        } catch (RuntimeException e) {
            LOG.warn("nixl-like: no UCX worker to read from {} ({}); reading over tcp", c.where(), e.toString());
            return control;
        }
        try {
            byte[] address = reader.address();
            c.wire()
                    .writeFrame(
                            Frames.UCX_ATTACH,
                            ByteBuffer.allocate(5 + 4 + address.length)
                                    .putInt(options.readSlots())
                                    .put((byte) (options.verifyReads() ? 1 : 0))
                                    .putInt(address.length)
                                    .put(address)
                                    .array(),
                            io);
            var h = c.wire().readHeader(io);
            byte[] answer = c.wire().readPayload(h, io);
            if (h.type() == Frames.ERROR) {
                LOG.warn(
                        "nixl-like: the producer at {} refused UCX ({}); reading over tcp",
                        c.where(),
                        Frames.errorMessage(answer));
                reader.close();
                return control;
            }
            if (h.type() != Frames.OK) {
                throw new IOException("answered the UCX attach with message type " + h.type());
            }
            checkAttached(answer, options.readSlots(), c.remote().bytesPerBlock(), c.where());
        } catch (TransferException e) {
            reader.close();
            control.close();
            throw e;
        } catch (IOException | RuntimeException e) {
            reader.close();
            control.close();
            throw TcpTransport.classify(e, "UCX attach to " + c.where());
        }
        return new UcxPeer(control, options.readSlots(), c.remote().bytesPerBlock(), options.verifyReads(), reader);
    }

    /**
     * Checks the producer's answer to an attach: the slots (4 bytes) and slot bytes (8) it staged,
     * exactly what the reader asked for and the block size of the handshake.
     *
     * @throws TransferException {@code UNTRUSTED}, naming what does not hold
     */
    static void checkAttached(byte[] answer, int slots, long slotBytes, String where) throws TransferException {
        String wrong = null;
        if (answer.length != 12) {
            wrong = "an answer of " + answer.length + " bytes (12 expected)";
        } else {
            var b = ByteBuffer.wrap(answer);
            int staged = b.getInt();
            long bytes = b.getLong();
            if (staged != slots) {
                wrong = staged + " staging slots; " + slots + " were asked for";
            } else if (bytes != slotBytes) {
                wrong = "slots of " + bytes + " bytes; the handshake agreed on blocks of " + slotBytes;
            }
        }
        if (wrong != null) {
            throw new TransferException(
                    TransferException.Kind.UNTRUSTED,
                    "UCX attach to " + where + ": the producer staged memory that does not fit what was agreed: "
                            + wrong);
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
        /** A registered run of slots. */
        record Region(int firstSlot, int slots, long address, UcpMemory memory) {}

        final HostBlockBuffer buffer;
        final List<Region> regions = new ArrayList<>();

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
         * Slots {@code [from, to)} as runs of contiguous memory: their addresses in element 0 and
         * their lengths in element 1 (one run unless the slots cross regions).
         */
        long[][] runs(int from, int to) {
            long sb = buffer.slotBytes();
            long[] addresses = new long[regions.size()];
            long[] lengths = new long[regions.size()];
            int n = 0;
            for (Region r : regions) {
                int a = Math.max(from, r.firstSlot());
                int b = Math.min(to, r.firstSlot() + r.slots());
                if (a < b) {
                    addresses[n] = r.address() + (a - r.firstSlot()) * sb;
                    lengths[n++] = (b - a) * sb;
                }
            }
            return new long[][] {Arrays.copyOf(addresses, n), Arrays.copyOf(lengths, n)};
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
     * The producer's UCX side of one listener: a worker that sends the readers' messages,
     * progressed by a thread of its own (a rendezvous needs the sender's progress to start and to
     * end, and a message UCX cuts into fragments needs it for each), and a handler per connection
     * that registers its staging buffer and opens an endpoint to its reader's worker.
     */
    private static final class UcxServer implements TcpTransport.ServerExtension {
        private final UcpContext ctx;
        private final UcpWorker worker;
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
         * A read's messages were just sent: poll rather than sleep for a while. Where UCX sends a
         * message in fragments (no {@code cma} between the processes, or over TCP) each fragment
         * needs this worker's progress, and waking from {@code waitForEvents} for each cost hundreds
         * of microseconds on a busy host. Called by a connection thread.
         */
        void heat() {
            hotUntil = System.nanoTime() + HOT_NANOS;
            worker.signal();
        }

        private void progressLoop() {
            while (!closed) {
                try {
                    if (worker.progress() > 0) {
                        // Fragments of a message come in bursts: keep polling while they do.
                        if (hotUntil - System.nanoTime() > 0) {
                            hotUntil = System.nanoTime() + HOT_NANOS;
                        }
                    } else if (hotUntil - System.nanoTime() > 0) {
                        Thread.yield(); // the reader may need this core to take its messages
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
            // Only now: no message can be sent from this memory any more.
            freeAllRetired();
            release();
        }

        /**
         * One reader's connection: the staging memory allocated and registered when it attached,
         * the only memory its messages are sent from, and the endpoint to its worker.
         */
        private final class UcxConnection implements TcpTransport.ConnectionExtension {
            private final String who;
            private final BlockSource source;
            private TcpTransport.Staging staging;
            private Registration registration;
            private UcpEndpoint endpoint;
            /** Whether the reader verifies its reads: then each staged answer is followed by a checksum. */
            private boolean checksums;

            /**
             * Whether the reader may still be taking messages from the staging memory: from a
             * {@code STAGED} answer until the reader's next frame. A reader sends its next frame
             * only after its messages arrived, so once one arrived none of its can be on its way.
             */
            private boolean sendsMayBeInFlight;

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
                sendsMayBeInFlight = false;
            }

            @Override
            public boolean handle(Wire.Header h, byte[] payload, Wire wire, long sendMillis) throws IOException {
                switch (h.type()) {
                    case Frames.UCX_ATTACH -> {
                        attach(payload, wire, sendMillis);
                        return true;
                    }
                    case Frames.STAGE -> {
                        stage(payload, wire, sendMillis);
                        return true;
                    }
                    default -> {
                        return false;
                    }
                }
            }

            /**
             * Copies a read's blocks into staging and sends them in the messages the reader posted
             * receives for, then answers {@code STAGED} (and {@code CHECKSUM}).
             *
             * @throws IOException for a malformed request: the connection ends
             */
            private void stage(byte[] payload, Wire wire, long sendMillis) throws IOException {
                if (registration == null) {
                    refuse(wire, "STAGE before UCX_ATTACH on this connection", sendMillis);
                    return;
                }
                if (payload.length < 12) {
                    throw new IOException("malformed STAGE of " + payload.length + " bytes");
                }
                var b = ByteBuffer.wrap(payload);
                long tagBase = b.getLong();
                int pieceSlots = b.getInt();
                if ((tagBase & ((1L << PIECE_BITS) - 1)) != 0 || pieceSlots < 1) {
                    throw new IOException("malformed STAGE: tag base " + Long.toHexString(tagBase) + ", " + pieceSlots
                            + " blocks per message");
                }
                var req = ReadRequest.decode(Arrays.copyOfRange(payload, 12, payload.length));
                HostBlockBuffer filled = staging.fillOrRefuse(req, wire, sendMillis);
                if (filled == null) {
                    return;
                }
                // fill checked the count: at most the attach's slots.
                int n = (int) req.blockCount();
                int messages = 0;
                sendsMayBeInFlight = true;
                for (int first = 0; first < n; first += pieceSlots, messages++) {
                    long[][] runs = registration.runs(first, Math.min(n, first + pieceSlots));
                    long tag = tagBase | messages;
                    // Completion needs nothing of this thread: the memory stays until the reader's
                    // next frame (or, should the connection end first, RETIRED_FOR).
                    if (runs[0].length == 1) {
                        endpoint.sendTaggedNonBlocking(runs[0][0], runs[1][0], tag, null);
                    } else {
                        endpoint.sendTaggedNonBlocking(runs[0], runs[1], tag, null);
                    }
                }
                heat();
                wire.writeFrame(
                        Frames.STAGED, ByteBuffer.allocate(4).putInt(messages).array(), sendMillis);
                if (checksums) {
                    // After the answer: computed while the reader takes the messages.
                    int checksum = StagedChecksum.of(filled, n);
                    wire.writeFrame(
                            Frames.CHECKSUM,
                            ByteBuffer.allocate(StagedChecksum.BYTES)
                                    .putInt(checksum)
                                    .array(),
                            sendMillis);
                }
            }

            /**
             * Allocates and registers the connection's staging memory, opens an endpoint to the
             * reader's worker and tells the reader what it staged.
             */
            private void attach(byte[] payload, Wire wire, long sendMillis) throws IOException {
                var b = ByteBuffer.wrap(payload);
                if (payload.length < 9
                        || (payload[4] != 0 && payload[4] != 1)
                        || b.getInt(5) < 1
                        || b.getInt(5) > MAX_WORKER_ADDRESS
                        || b.getInt(5) != payload.length - 9) {
                    throw new IOException("malformed UCX attach of " + payload.length + " bytes");
                }
                int slots = b.getInt(0);
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
                    endpoint = worker.newEndpoint(new UcpEndpointParams()
                            .setUcpAddress(direct(Arrays.copyOfRange(payload, 9, payload.length))));
                    checksums = payload[4] == 1;
                } catch (RuntimeException e) {
                    if (registration != null) {
                        registration.close();
                        registration = null;
                    }
                    if (staging != null) {
                        staging.close();
                        staging = null;
                    }
                    refuse(wire, "cannot reach the reader over UCX: " + e.getMessage(), sendMillis);
                    return;
                }
                wire.writeFrame(
                        Frames.OK,
                        ByteBuffer.allocate(12)
                                .putInt(slots)
                                .putLong(staging.buffer().slotBytes())
                                .array(),
                        sendMillis);
                LOG.debug("nixl-like: reader {} attached over UCX ({} staging slots)", who, slots);
            }

            private static void refuse(Wire wire, String why, long sendMillis) throws IOException {
                wire.writeFrame(Frames.ERROR, Frames.errorPayload(TransferException.Kind.FAILED, why), sendMillis);
            }

            @Override
            public void close() {
                if (endpoint != null) {
                    // Ends the sends still posted; the progress thread completes the close.
                    try {
                        endpoint.closeNonBlockingForce();
                    } catch (RuntimeException e) {
                        LOG.debug("nixl-like: closing a UCX endpoint to reader {} failed", who, e);
                    }
                    endpoint = null;
                }
                // Deregistered before the memory is freed.
                if (registration != null) {
                    registration.close();
                    registration = null;
                }
                if (staging != null) {
                    if (sendsMayBeInFlight) {
                        // Not freed yet: a message may still be taken from it (see RETIRED_FOR).
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
     * A reader's own UCX worker, made before the attach so that its address can go with it. Used
     * by one thread at a time; {@link #close()} is idempotent.
     */
    private static final class ReaderWorker implements AutoCloseable {
        final UcpWorker worker;
        final UcpContext ctx;
        private boolean closed;

        ReaderWorker() {
            ctx = acquire();
            try {
                worker = ctx.newWorker(new UcpWorkerParams().requestThreadSafety());
            } catch (RuntimeException e) {
                release();
                throw e;
            }
        }

        byte[] address() {
            return bytes(worker.getAddress());
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                worker.close();
                release();
            }
        }
    }

    /**
     * A reader's connection: the TCP control peer plus a UCX worker of its own, which the
     * producer's endpoint sends to; used by the reader's thread only (the peer contract: one
     * thread at a time).
     */
    private static final class UcxPeer implements Peer {
        /** How long a failed read waits for its cancelled receives to complete. */
        private static final long CANCEL_WAIT_NANOS = 1_000_000_000L;

        private final TcpTransport.TcpPeer control;
        /** The staging slots the producer holds for this reader: the most blocks one read names. */
        private final int slots;

        private final long slotBytes;
        /** Whether each read's blocks are checked against the producer's checksum. */
        private final boolean verifyReads;

        private final ReaderWorker reader;
        private final UcpWorker worker;

        private Registration local;
        /** Reads started on this connection: the high bits of each read's tags. */
        private long reads;

        private boolean broken;
        /** Set by {@link #close()} from any thread; a read in progress sees it and stops. */
        private volatile boolean closed;

        private boolean released;

        UcxPeer(TcpTransport.TcpPeer control, int slots, long slotBytes, boolean verifyReads, ReaderWorker reader) {
            this.control = control;
            this.slots = slots;
            this.slotBytes = slotBytes;
            this.verifyReads = verifyReads;
            this.reader = reader;
            this.worker = reader.worker;
        }

        @Override
        public Compat remote() {
            return control.remote();
        }

        @Override
        public synchronized void read(TransferRef transfer, int[] remoteBlocks, HostBlockBuffer into)
                throws TransferException {
            if (remoteBlocks.length > into.numSlots() || remoteBlocks.length > slots || into.slotBytes() != slotBytes) {
                throw new IllegalArgumentException(remoteBlocks.length + " blocks do not fit " + into.numSlots()
                        + " slots of " + into.slotBytes() + " bytes, or the " + slots + " staged slots of "
                        + slotBytes + " agreed at the attach");
            }
            String what = "UCX read of transfer " + transfer + " from " + control.where();
            if (broken || closed) {
                throw new TransferException(
                        TransferException.Kind.FAILED, what + ": the connection is " + (closed ? "closed" : "broken"));
            }
            Wire wire = control.wire();
            long io = control.ioMillis();
            boolean refused = false;
            var failure = new String[1];
            List<UcpRequest> receives = new ArrayList<>();
            try {
                if (local == null || local.buffer != into) {
                    // Once per buffer: a connection's reads move to another read lane's buffer only
                    // while several producers are read from at once (the lanes hand out the buffer
                    // returned last).
                    if (local != null) {
                        local.close();
                    }
                    local = null;
                    local = new Registration(reader.ctx, into);
                }
                int n = remoteBlocks.length;
                int pieceSlots = (int) Math.max(1, PIECE_BYTES / slotBytes);
                long tagBase = ++reads << PIECE_BITS;
                // Posted before the request, so a message finds its receive when it arrives.
                post(receives, n, pieceSlots, tagBase, failure);
                byte[] request = ReadRequest.of(transfer, remoteBlocks).encode();
                wire.writeFrame(
                        Frames.STAGE,
                        ByteBuffer.allocate(12 + request.length)
                                .putLong(tagBase)
                                .putInt(pieceSlots)
                                .put(request)
                                .array(),
                        io);
                var h = wire.readHeader(io);
                byte[] answer = wire.readPayload(h, io);
                if (h.type() == Frames.ERROR) {
                    refused = true; // a clean answer: the connection is still in step
                    throw new TransferException(Frames.errorKind(answer), what + ": " + Frames.errorMessage(answer));
                }
                if (h.type() != Frames.STAGED
                        || answer.length != 4
                        || ByteBuffer.wrap(answer).getInt() != receives.size()) {
                    throw new IOException("expected STAGED naming " + receives.size() + " message(s), got message type "
                            + h.type() + " of " + answer.length + " bytes");
                }
                int got = receive(receives, n, pieceSlots, into, verifyReads, failure, io, what);
                if (verifyReads && got != readChecksum(wire, io)) {
                    throw new TransferException(
                            TransferException.Kind.FAILED,
                            what + ": the blocks received do not match the checksum the producer staged them with "
                                    + "(its staging memory changed under the messages: the producer closed the "
                                    + "connection or shut down meanwhile); nothing of this read may be used");
                }
                if (messageLeftOver()) {
                    throw new TransferException(
                            TransferException.Kind.UNTRUSTED,
                            what + ": the producer sent a message that no read asked for");
                }
            } catch (TransferException e) {
                broken = !refused;
                throw e;
            } catch (IOException | RuntimeException e) {
                broken = true;
                throw TcpTransport.classify(e, what);
            } finally {
                if (!cancel(receives)) {
                    broken = true;
                }
            }
        }

        /**
         * Whether a message waits that no receive asked for: a correct producer sends exactly the
         * messages of the receives a read posted, so one left over after the read breaks the
         * protocol. One more progress call first, to take in a message that has just arrived.
         */
        private boolean messageLeftOver() throws TransferException {
            try {
                worker.progress();
            } catch (Exception e) {
                throw new TransferException(TransferException.Kind.FAILED, "UCX progress failed: " + e, e);
            }
            return worker.tagProbeNonBlocking(0, 0, false) != null;
        }

        /**
         * Posts the receives of a read of {@code n} slots of {@link #local}: one per piece of
         * {@code pieceSlots} slots, tagged {@code tagBase} plus the piece's number. A receive that
         * fails notes why in {@code failure[0]}.
         */
        private void post(List<UcpRequest> receives, int n, int pieceSlots, long tagBase, String[] failure) {
            UcxCallback callback = new UcxCallback() {
                @Override
                public void onError(int status, String message) {
                    failure[0] = "UCX status " + status + ": " + message;
                }
            };
            for (int first = 0, piece = 0; first < n; first += pieceSlots, piece++) {
                long[][] runs = local.runs(first, Math.min(n, first + pieceSlots));
                long tag = tagBase | piece;
                receives.add(
                        runs[0].length == 1
                                ? worker.recvTaggedNonBlocking(runs[0][0], runs[1][0], tag, -1L, callback)
                                : worker.recvTaggedNonBlocking(runs[0], runs[1], tag, -1L, callback));
            }
        }

        /**
         * Waits for the receives of a read of {@code n} slots, each of exactly its piece's bytes,
         * within {@link #receiveWaitMillis}.
         *
         * <p>With {@code checksum}, returns the CRC32C of the slots' bytes in order ({@link
         * StagedChecksum}), computed piece by piece as the pieces complete, in order: the checksum
         * takes the time this thread would otherwise spend polling for the later pieces, on bytes
         * that have just arrived. Without, returns 0.
         */
        private int receive(
                List<UcpRequest> receives,
                int n,
                int pieceSlots,
                HostBlockBuffer into,
                boolean checksum,
                String[] failure,
                long io,
                String what)
                throws TransferException {
            var crc = new CRC32C();
            long deadline = System.nanoTime() + receiveWaitMillis(io) * 1_000_000L;
            int idle = 0;
            int next = 0; // the next piece to check, in order
            try {
                while (next < receives.size()) {
                    if (receives.get(next).isCompleted()) {
                        if (failure[0] != null) {
                            throw new TransferException(TransferException.Kind.FAILED, what + ": " + failure[0]);
                        }
                        int first = next * pieceSlots;
                        int end = Math.min(n, first + pieceSlots);
                        long expected = (end - first) * slotBytes;
                        long size = receives.get(next).getRecvSize();
                        if (size != expected) {
                            throw new TransferException(
                                    TransferException.Kind.UNTRUSTED,
                                    what + ": a message of " + size + " bytes for " + expected
                                            + " asked for; nothing of this read may be used");
                        }
                        if (checksum) {
                            StagedChecksum.update(crc, into, first, end);
                        }
                        next++;
                        continue;
                    }
                    if (worker.progress() == 0 && ++idle % SPINS_BEFORE_YIELD == 0) {
                        Thread.yield(); // the producer's progress thread may need this core
                    }
                    if (closed) {
                        throw new TransferException(TransferException.Kind.FAILED, what + ": closed");
                    }
                    if (System.nanoTime() - deadline > 0) {
                        throw new TransferException(TransferException.Kind.TIMEOUT, what + ": no answer in time");
                    }
                }
            } catch (TransferException e) {
                throw e;
            } catch (Exception e) {
                throw new TransferException(TransferException.Kind.FAILED, what + ": " + e, e);
            }
            return checksum ? StagedChecksum.value(crc) : 0;
        }

        /**
         * Cancels the receives that did not complete and waits for them, so that nothing lands in
         * the read's buffer after the read returned: UCX moves a message's bytes only inside this
         * worker's progress, which no one calls after this.
         *
         * @return whether every receive completed
         */
        private boolean cancel(List<UcpRequest> receives) {
            boolean any = false;
            for (UcpRequest r : receives) {
                if (!r.isCompleted()) {
                    any = true;
                    try {
                        worker.cancelRequest(r);
                    } catch (RuntimeException e) {
                        LOG.debug("nixl-like: cancelling a UCX receive failed", e);
                    }
                }
            }
            if (!any) {
                return true;
            }
            long deadline = System.nanoTime() + CANCEL_WAIT_NANOS;
            try {
                while (System.nanoTime() - deadline < 0) {
                    if (receives.stream().allMatch(UcpRequest::isCompleted)) {
                        return true;
                    }
                    worker.progress();
                }
            } catch (Exception e) {
                LOG.debug("nixl-like: progress while cancelling UCX receives failed", e);
            }
            return false;
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
                    if (local != null) {
                        local.close();
                        local = null;
                    }
                    reader.close();
                }
            }
        }
    }

    /** Describes the UCX transports in use for the log (UCX itself chooses per endpoint). */
    public static String describeEnvironment() {
        String tls = System.getenv("UCX_TLS");
        return "UCX_TLS=" + (tls == null || tls.isBlank() ? "all (UCX picks: shared memory on one host)" : tls);
    }
}
