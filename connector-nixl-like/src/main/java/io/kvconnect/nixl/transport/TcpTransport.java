package io.kvconnect.nixl.transport;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.DoneBatch;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.Handshake;
import io.kvconnect.nixl.protocol.ReadRequest;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import io.kvconnect.nixl.protocol.Wire;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plain Java TCP backend: one-sided reads as request and response on the producer worker's
 * server socket.
 *
 * <p><b>Wire format.</b> {@link Frames}: every message is a frame (magic, type, length, payload),
 * control payloads are bounded, and a data payload is exactly {@code blocks * blockBytes} bytes,
 * checked against the request, so a transfer cut short is detected (end of stream inside a frame
 * is {@code TRUNCATED}) and never taken for KV.
 *
 * <p><b>Handshake.</b> {@link Handshake}: both sides prove the shared secret (HMAC-SHA256 over
 * both sides' random challenges) before either sends its compatibility fields, then compare them;
 * a mismatch is reported on both sides with the differing field named.
 *
 * <p><b>Before authentication.</b> A listener handshakes at most {@code max_pending_handshakes}
 * connections at once, each on a thread of its own, and closes one that has not completed its
 * handshake within {@code handshake_timeout}; when all slots are taken, a new connection closes
 * the oldest pending one (a stranger holding slots open cannot lock readers out for long), and is
 * refused itself if no slot frees in time. Handshake frames of the wrong type or size are refused
 * on their header, before anything is allocated for them. Each outcome is counted ({@link
 * Listener#takeCounters()}).
 *
 * <p><b>Requests.</b> {@code READ} (transfer id, transfer token, runs of block ids) is answered by {@code
 * DATA} or {@code ERROR} (kind and message); {@code DONE} (transfer id and token) and {@code
 * DONE_BATCH} (several of them, {@link DoneBatch}) by {@code OK} or {@code ERROR}; the listener
 * counts the notice frames ({@code notice_frames}). The producer checks the token ({@link TransferRef}). Every wait is bounded
 * ({@link Wire}), so a dead or silent peer ends a transfer in bounded time. Block data leaves the
 * producer straight from its KV cache where the source can send that way ({@link
 * BlockSource#openSend}), else from a staging buffer allocated once per connection, and arrives in
 * the consumer's staging buffer (once per worker), without an intermediate copy.
 *
 * <p>{@link UcxTransport} reuses this connection, handshake and framing as its control channel
 * ({@link #openControl}, {@link ServerExtension}), adding message types of its own. Both sides
 * announce their backend in the handshake's informational {@code transport} field.
 */
public final class TcpTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(TcpTransport.class);

    @Override
    public String name() {
        return "tcp";
    }

    @Override
    public Listener listen(String host, int port, Compat local, ListenOptions options, BlockSource source)
            throws IOException {
        return listen(host, port, local.withTransport(name()), options, source, null);
    }

    /**
     * Binds and starts a listener whose connections also accept the control frames of {@code
     * extension} (null: none). Shared with {@link UcxTransport}, which adds its data path to this
     * control connection.
     */
    static Listener listen(
            String host, int port, Compat local, ListenOptions options, BlockSource source, ServerExtension extension)
            throws IOException {
        return listen(host, port, local, options, source, extension, ServeLimits.DEFAULT);
    }

    /** As {@link #listen(String, int, Compat, ListenOptions, BlockSource, ServerExtension)} with other {@code limits}. */
    static Listener listen(
            String host,
            int port,
            Compat local,
            ListenOptions options,
            BlockSource source,
            ServerExtension extension,
            ServeLimits limits)
            throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(InetAddress.getByName(host), port), 64);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        TcpListener listener = new TcpListener(server, local, options, source, extension, limits);
        listener.start();
        return listener;
    }

    @Override
    public Peer connect(String host, int port, Compat local, ConnectOptions options) throws TransferException {
        Control c = openControl(host, port, local.withTransport(name()), options);
        return new TcpPeer(c.wire(), c.remote(), c.where(), timeoutMillis(options.ioTimeout()));
    }

    /**
     * A handshaken control connection, client side.
     *
     * @param wire the connection
     * @param remote the producer's handshake fields
     * @param where {@code host:port}, for messages
     */
    record Control(Wire wire, Compat remote, String where) {}

    /**
     * Connects to {@code host:port} and runs the reader's side of the {@link Handshake}, both
     * within {@code options.connectTimeout()}. Shared by both backends.
     *
     * @throws TransferException if the connection or the handshake fails (kind says which)
     */
    static Control openControl(String host, int port, Compat local, ConnectOptions options) throws TransferException {
        String where = host + ":" + port;
        SocketChannel channel = null;
        Wire wire = null;
        long deadline = System.nanoTime() + options.connectTimeout().toNanos();
        try {
            channel = SocketChannel.open();
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (!channel.connect(new InetSocketAddress(host, port))) {
                try (Selector s = Selector.open()) {
                    channel.register(s, SelectionKey.OP_CONNECT);
                    if (s.select(Wire.millisLeft(deadline)) == 0) {
                        throw new SocketTimeoutException("connect timed out");
                    }
                    channel.finishConnect();
                }
            }
            wire = new Wire(channel);
            Compat remote = Handshake.asReader(wire, local, options.secret(), deadline, where);
            return new Control(wire, remote, where);
        } catch (TransferException e) {
            closeQuietly(wire, channel);
            throw e;
        } catch (ConnectException e) {
            closeQuietly(wire, channel);
            throw new TransferException(
                    TransferException.Kind.REFUSED, "cannot connect to " + where + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(wire, channel);
            throw classify(e, "handshake with " + where);
        }
    }

    private static void closeQuietly(Wire wire, SocketChannel channel) {
        if (wire != null) {
            wire.close();
        } else if (channel != null) {
            closeQuietly(channel);
        }
    }

    // ---- frames --------------------------------------------------------------------------------

    static int timeoutMillis(Duration d) {
        return Math.clamp(d.toMillis(), 1, Integer.MAX_VALUE);
    }

    static TransferException classify(Exception e, String what) {
        if (e instanceof TransferException t) {
            return t;
        }
        if (e instanceof SocketTimeoutException) {
            return new TransferException(TransferException.Kind.TIMEOUT, what + ": no answer in time", e);
        }
        if (e instanceof EOFException) {
            return new TransferException(
                    TransferException.Kind.TRUNCATED,
                    what + ": the peer closed the connection " + "in the middle of a message",
                    e);
        }
        if (e instanceof ConnectException) {
            return new TransferException(TransferException.Kind.REFUSED, what + ": " + e.getMessage(), e);
        }
        return new TransferException(TransferException.Kind.FAILED, what + ": " + e, e);
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.debug("close failed", e);
        }
    }

    // ---- client --------------------------------------------------------------------------------

    /**
     * A handshaken connection to a producer worker. {@link UcxTransport}'s peer uses one for its
     * control messages and, where the producer has no UCX, for the data too.
     */
    static final class TcpPeer implements Peer {
        private final Wire wire;
        private final Compat remote;
        private final String where;
        private final long ioMillis;
        /** The block size both sides agreed on at the handshake: every data frame is a multiple of it. */
        private final long blockBytes;

        TcpPeer(Wire wire, Compat remote, String where, long ioMillis) {
            this.wire = wire;
            this.remote = remote;
            this.where = where;
            this.ioMillis = ioMillis;
            this.blockBytes = remote.bytesPerBlock();
        }

        @Override
        public Compat remote() {
            return remote;
        }

        Wire wire() {
            return wire;
        }

        String where() {
            return where;
        }

        long ioMillis() {
            return ioMillis;
        }

        @Override
        public void read(TransferRef transfer, int[] remoteBlocks, HostBlockBuffer into) throws TransferException {
            if (remoteBlocks.length > into.numSlots() || into.slotBytes() != blockBytes) {
                throw new IllegalArgumentException(remoteBlocks.length + " blocks of " + blockBytes + " bytes do not "
                        + "fit " + into.numSlots() + " slots of " + into.slotBytes());
            }
            String what = "read of transfer " + transfer + " from " + where;
            try {
                wire.writeFrame(
                        Frames.READ, ReadRequest.of(transfer, remoteBlocks).encode(), ioMillis);
                var h = wire.readHeader(ioMillis);
                if (h.type() == Frames.ERROR) {
                    byte[] payload = wire.readPayload(h, ioMillis);
                    throw new TransferException(Frames.errorKind(payload), what + ": " + Frames.errorMessage(payload));
                }
                // Exactly what was asked for, in blocks of the agreed size: nothing else is copied.
                long expected = remoteBlocks.length * blockBytes;
                if (h.type() != Frames.DATA || h.length() != expected) {
                    throw new IOException("expected " + expected + " bytes of data, got message type " + h.type()
                            + " of " + h.length() + " bytes");
                }
                // Straight from the socket into the staging buffer: no intermediate copy.
                var slots = new ByteBuffer[remoteBlocks.length];
                for (int i = 0; i < slots.length; i++) {
                    slots[i] = into.slot(i).asByteBuffer();
                }
                wire.readFully(slots, ioMillis);
            } catch (TransferException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                throw classify(e, what);
            }
        }

        @Override
        public void done(TransferRef transfer) throws TransferException {
            notice(Frames.DONE, transfer.encode(), "done notification of transfer " + transfer + " to " + where);
        }

        @Override
        public void done(List<TransferRef> transfers) throws TransferException {
            for (DoneBatch batch : DoneBatch.split(transfers)) {
                notice(
                        Frames.DONE_BATCH,
                        batch.encode(),
                        "done notification of " + batch.transfers().size() + " transfer(s) to " + where);
            }
        }

        /** Sends one notice frame and reads its answer. */
        private void notice(byte type, byte[] payload, String what) throws TransferException {
            try {
                wire.writeFrame(type, payload, ioMillis);
                var h = wire.readHeader(ioMillis);
                byte[] answer = wire.readPayload(h, ioMillis);
                if (h.type() == Frames.ERROR) {
                    throw new TransferException(Frames.errorKind(answer), what + ": " + Frames.errorMessage(answer));
                }
                if (h.type() != Frames.OK) {
                    throw new TransferException(
                            TransferException.Kind.FAILED, what + ": answered with type " + h.type());
                }
            } catch (TransferException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                throw classify(e, what);
            }
        }

        @Override
        public void close() {
            wire.close();
        }
    }

    // ---- server --------------------------------------------------------------------------------

    /**
     * Control frames a backend adds to this one's connections ({@link UcxTransport}). Called on the
     * listener's threads: {@link #open} once per connection after its handshake, on that
     * connection's thread.
     */
    interface ServerExtension {
        /** The handler of the extra frames of one authenticated connection from {@code who}. */
        ConnectionExtension open(String who, BlockSource source);

        /** The listener closed; after every connection's handler. */
        void close();
    }

    /** One connection's handler of extra frames; used by that connection's thread only. */
    interface ConnectionExtension extends AutoCloseable {
        /**
         * Handles a frame whose type plain TCP does not know; returns false if this handler does not
         * know it either. Answers on {@code wire} within {@code sendMillis}.
         *
         * @throws IOException if the connection must end
         */
        boolean handle(Wire.Header h, byte[] payload, Wire wire, long sendMillis) throws IOException;

        /**
         * A frame of any type arrived from the reader (its header was read), before it is handled.
         * The default does nothing.
         */
        default void frameArrived() {}

        /** Releases what the handler holds (its staging memory too). */
        @Override
        void close();
    }

    /**
     * One connection's staging buffer on the producer. A growing one is allocated on the first
     * read, grown (rarely) for a larger one and reused by every later read; a fixed one ({@link
     * #fixed}) is allocated at once and never replaced, so its memory can be registered and
     * described to the reader once. Closed with the connection; used by the connection's thread
     * only.
     */
    static final class Staging implements AutoCloseable {
        private final BlockSource source;
        private final boolean fixed;
        private HostBlockBuffer buffer;

        /** A growing staging buffer, allocated on the first read. */
        Staging(BlockSource source) {
            this.source = source;
            this.fixed = false;
        }

        private Staging(BlockSource source, int slots) {
            this.source = source;
            this.fixed = true;
            this.buffer = source.allocateStaging(slots);
        }

        /** A staging buffer of exactly {@code slots} blocks, allocated now. */
        static Staging fixed(BlockSource source, int slots) {
            return new Staging(source, slots);
        }

        /** The buffer; null for a growing one before its first read. */
        HostBlockBuffer buffer() {
            return buffer;
        }

        /**
         * Copies {@code req}'s blocks into slots {@code 0 .. n - 1} of the staging buffer and returns
         * it (the same buffer as last time unless it had to grow). The request is checked ({@link
         * BlockSource#check}) before the buffer grows, so its size is bounded by the transfer's.
         *
         * @throws TransferException as {@link BlockSource#read}, or {@code FAILED} for more than
         *     {@value ReadRequest#MAX_BLOCKS} blocks, runs that overlap or, for a fixed buffer, more
         *     than its slots
         */
        HostBlockBuffer fill(ReadRequest req) throws TransferException {
            // Before sizing the buffer: the request's runs are the reader's word, and a control
            // frame may name billions of blocks; blocks() refuses more than MAX_BLOCKS, and runs
            // that overlap, before it expands them.
            int[] blocks = req.blocks();
            int n = blocks.length;
            if (fixed && n > buffer.numSlots()) {
                throw new TransferException(
                        TransferException.Kind.FAILED,
                        "a read of " + n + " blocks; this " + "connection staged " + buffer.numSlots()
                                + " when the reader attached");
            }
            source.check(req.transfer(), blocks);
            if (buffer == null || n > buffer.numSlots()) {
                if (buffer != null) {
                    buffer.close();
                    buffer = null;
                }
                buffer = source.allocateStaging(Math.max(n, 16));
            }
            source.read(req.transfer(), blocks, buffer);
            return buffer;
        }

        /**
         * {@link #fill}, answering a refusal on {@code wire} as an {@code ERROR} frame (the
         * connection stays in step) instead of throwing it.
         *
         * @return the filled buffer, or {@code null} if the read was refused and answered
         * @throws IOException if writing the refusal failed
         */
        HostBlockBuffer fillOrRefuse(ReadRequest req, Wire wire, long sendMillis) throws IOException {
            try {
                return fill(req);
            } catch (TransferException e) {
                wire.writeError(e, sendMillis);
                return null;
            }
        }

        @Override
        public void close() {
            if (buffer != null) {
                buffer.close();
                buffer = null;
            }
        }
    }

    /**
     * Accepts connections and serves each on a thread of its own, handshakes bounded in number
     * and time (see the class description).
     */
    private static final class TcpListener implements Listener {
        /** Bound on reading the rest of a request whose header arrived ({@link ServeLimits}). */
        private final long payloadMillis;
        /** Bound on sending one answer to a reader that stopped reading ({@link ServeLimits}). */
        private final long sendMillis;
        /** How long a new connection waits for the slot of the pending one it closed. */
        private static final long EVICTION_WAIT_MILLIS = 1_000;

        private final ServerSocketChannel server;
        private final Compat local;
        private final ListenOptions options;
        private final BlockSource source;
        private final ServerExtension extension;
        private final Set<Wire> connections = ConcurrentHashMap.newKeySet();
        private final Set<Thread> handlers = ConcurrentHashMap.newKeySet();
        /** Numbers authenticated connections, for {@link BlockSource#done(TransferRef, long)}. */
        private final AtomicLong connectionIds = new AtomicLong();
        /** One permit per handshake that may run at once; held by its thread until the handshake ends. */
        private final Semaphore handshakeSlots;
        /** Connections whose handshake is in progress, oldest first. */
        private final Deque<Pending> pending = new ConcurrentLinkedDeque<>();
        /**
         * Failed accepts and set-ups since the last connection was set up, for {@link
         * #pauseAfterFailure}; accept thread only.
         */
        private int acceptFailures;

        private final EventCounters counters = new EventCounters();
        private final int port;
        private volatile boolean closed;
        private Thread acceptor;

        /**
         * A connection whose handshake is in progress. Whoever removes it from {@code pending}
         * decides its fate: its own thread when the handshake ends, or the acceptor, which evicts it.
         */
        private record Pending(Wire wire, String who) {}

        TcpListener(
                ServerSocketChannel server,
                Compat local,
                ListenOptions options,
                BlockSource source,
                ServerExtension extension,
                ServeLimits limits)
                throws IOException {
            this.payloadMillis = limits.payloadMillis();
            this.sendMillis = limits.sendMillis();
            this.server = server;
            this.extension = extension;
            this.local = local;
            this.options = options;
            this.source = source;
            this.handshakeSlots = new Semaphore(options.maxPendingHandshakes());
            this.port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        }

        void start() {
            acceptor = Thread.ofPlatform()
                    .daemon()
                    .name("nixl-accept-" + local.engineId() + "-" + local.rank())
                    .start(this::acceptLoop);
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public Map<String, Long> takeCounters() {
            return counters.take();
        }

        private void acceptLoop() {
            while (!closed) {
                SocketChannel c;
                try {
                    c = server.accept();
                } catch (IOException e) {
                    if (!closed) {
                        failed("accept_failures", "accepting a connection", e);
                        if (!pauseAfterFailure()) {
                            return;
                        }
                    }
                    continue;
                }
                try {
                    if (!admit()) {
                        closeQuietly(c);
                        refused(
                                "connections_refused_busy",
                                "a new connection",
                                "every handshake slot (" + options.maxPendingHandshakes() + ") stayed taken");
                        continue;
                    }
                } catch (InterruptedException e) {
                    closeQuietly(c);
                    Thread.currentThread().interrupt();
                    return;
                }
                Wire wire = null;
                Pending p = null;
                Thread t = null;
                try {
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    wire = new Wire(c);
                    connections.add(wire);
                    if (closed) {
                        wire.close();
                        handshakeSlots.release();
                        break;
                    }
                    p = new Pending(wire, String.valueOf(c.getRemoteAddress()));
                    pending.addLast(p);
                    t = Thread.ofPlatform()
                            .daemon()
                            .name("nixl-serve-" + port + "-" + p.who())
                            .unstarted(serving(p));
                    handlers.add(t);
                    t.start();
                    acceptFailures = 0;
                } catch (IOException | RuntimeException | Error e) {
                    // Error too: starting the connection's thread fails with an OutOfMemoryError when
                    // the process has no native threads left, and this thread must outlive that, or
                    // the listener never accepts again. What was taken for the connection is given back.
                    if (t != null) {
                        handlers.remove(t);
                    }
                    if (p != null) {
                        pending.remove(p);
                    }
                    if (wire != null) {
                        connections.remove(wire);
                    }
                    closeQuietly(wire, c);
                    handshakeSlots.release();
                    if (!closed) {
                        failed("connection_setup_failures", "setting up a connection", e);
                        if (!pauseAfterFailure()) {
                            return;
                        }
                    }
                }
            }
        }

        /**
         * Takes a handshake slot for a new connection: a free one, else the one of the oldest
         * pending handshake, which is closed for it (its thread frees the slot as it ends). False if
         * none freed in time.
         */
        private boolean admit() throws InterruptedException {
            if (handshakeSlots.tryAcquire()) {
                return true;
            }
            Pending oldest = pending.pollFirst();
            if (oldest != null) {
                oldest.wire().close();
            }
            return handshakeSlots.tryAcquire(EVICTION_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        }

        private void serve(Pending p) {
            Wire wire = p.wire();
            ConnectionExtension ext = null;
            Staging staging = new Staging(source);
            // Held until the handshake succeeded, else until this thread ends: the cap bounds
            // the threads of unauthenticated connections, those still closing included.
            boolean holdsSlot = true;
            try {
                Compat remote = handshake(p);
                if (remote == null) {
                    return;
                }
                handshakeSlots.release();
                holdsSlot = false;
                LOG.debug(
                        "nixl-like: reader {} rank {} ({}) connected from {}",
                        remote.engineId(),
                        remote.rank(),
                        remote.transport(),
                        p.who());
                if (extension != null) {
                    ext = extension.open(p.who(), source);
                }
                serveRequests(wire, staging, ext, connectionIds.incrementAndGet());
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.info("nixl-like: connection from {} ended: {}", p.who(), e.toString());
                }
            } finally {
                wire.close();
                connections.remove(wire);
                // The extension first: it may have registered staging memory with a NIC.
                if (ext != null) {
                    ext.close();
                }
                staging.close();
                handlers.remove(Thread.currentThread());
                if (holdsSlot) {
                    handshakeSlots.release();
                }
            }
        }

        /**
         * Runs the producer's side of the handshake within the handshake timeout and counts how it
         * ended; the reader's fields when it authenticated and is compatible, else null.
         */
        private Compat handshake(Pending p) {
            long deadline = System.nanoTime() + options.handshakeTimeout().toNanos();
            boolean mine = false; // whether this thread took p off the pending list (else the acceptor did)
            try {
                Handshake.Outcome outcome = Handshake.asProducer(p.wire(), local, options.secret(), deadline);
                mine = pending.remove(p);
                if (!mine) {
                    refused(
                            "handshakes_evicted",
                            p.who(),
                            "closed for a newer connection: every handshake slot was " + "taken");
                    return null;
                }
                return switch (outcome) {
                    case Handshake.Accepted a -> {
                        Handshake.confirm(p.wire(), a, deadline);
                        counters.count("handshakes_ok");
                        yield a.remote();
                    }
                    case Handshake.Refused r -> {
                        if (r.counter().equals("handshakes_refused_incompatible")) {
                            counters.count(r.counter());
                            LOG.error("nixl-like: refused {}: {}", p.who(), r.reason());
                        } else {
                            refused(r.counter(), p.who(), r.reason());
                        }
                        if (r.answer() != null) {
                            Handshake.tell(p.wire(), r.answer(), deadline);
                        }
                        yield null;
                    }
                };
            } catch (IOException | RuntimeException e) {
                if (!mine && !pending.remove(p)) {
                    refused(
                            "handshakes_evicted",
                            p.who(),
                            "closed for a newer connection: every handshake slot was " + "taken");
                } else if (!closed) {
                    if (e instanceof SocketTimeoutException) {
                        refused(
                                "handshakes_timed_out",
                                p.who(),
                                "no complete handshake within " + options.handshakeTimeout());
                    } else {
                        refused("handshakes_failed", p.who(), e.toString());
                    }
                }
                return null;
            }
        }

        /** The task that serves {@code p}'s connection on its own thread. */
        private Runnable serving(Pending p) {
            return () -> serve(p);
        }

        /** Logs a failure of the accept loop at the 1st, 2nd, 4th, ... of its kind, and counts it. */
        private void failed(String counter, String what, Throwable e) {
            long n = counters.count(counter);
            if (EventCounters.worthLogging(n)) {
                LOG.warn(
                        "nixl-like: {} on port {} failed: {} ({} {} so far; logged at the 1st, 2nd, 4th, 8th, ...)",
                        what,
                        port,
                        e.toString(),
                        n,
                        counter);
            }
        }

        /**
         * Waits a little after a failed accept or set-up, longer the more failed in a row (1 ms
         * doubling up to 100 ms): failures that last (no file descriptors left) would otherwise
         * spin this thread at full speed.
         *
         * @return false if the thread was interrupted meanwhile: the loop ends, as on an
         *     interrupt while it waits for a handshake slot
         */
        private boolean pauseAfterFailure() {
            acceptFailures = Math.min(acceptFailures + 1, 8);
            try {
                Thread.sleep(Math.min(100, 1L << (acceptFailures - 1)));
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        /** Counts a refusal and logs it when it is the first of its kind, the second, the fourth, ... */
        private void refused(String counter, String who, String reason) {
            long n = counters.count(counter);
            if (EventCounters.worthLogging(n)) {
                LOG.warn(
                        "nixl-like: port {} refused {}: {} ({} {} so far; logged at the 1st, 2nd, 4th, 8th, ...)",
                        port,
                        who,
                        reason,
                        n,
                        counter);
            }
        }

        /**
         * Serves an authenticated reader's requests until it closes the connection; {@code
         * connection} tells the source which connection a done notice came on.
         */
        private void serveRequests(Wire wire, Staging staging, ConnectionExtension ext, long connection)
                throws IOException {
            while (!closed) {
                Wire.Header h;
                try {
                    // The reader keeps the connection for later transfers; it may be idle for long.
                    h = wire.readHeader(0);
                } catch (EOFException e) {
                    return; // the reader closed the connection
                }
                if (ext != null) {
                    ext.frameArrived();
                }
                byte[] payload = wire.readPayload(h, payloadMillis);
                switch (h.type()) {
                    case Frames.READ -> {
                        ReadRequest req = ReadRequest.decode(payload);
                        if (sentDirectly(wire, req)) {
                            continue;
                        }
                        HostBlockBuffer buffer = staging.fillOrRefuse(req, wire, sendMillis);
                        if (buffer == null) {
                            continue;
                        }
                        int n = Math.toIntExact(req.blockCount()); // fill() bounded it
                        // The header and the blocks in one gathering write, straight from the
                        // staging buffer into the socket: no small write of its own for the header.
                        var frame = new ByteBuffer[n + 1];
                        frame[0] = Wire.header(Frames.DATA, Math.toIntExact(n * source.blockBytes()));
                        for (int i = 0; i < n; i++) {
                            frame[i + 1] = buffer.slot(i).asByteBuffer();
                        }
                        wire.writeFully(frame, sendMillis);
                    }
                    case Frames.DONE -> {
                        TransferRef ref = TransferRef.decode(ByteBuffer.wrap(payload));
                        counters.count("notice_frames");
                        try {
                            source.done(ref, connection);
                            wire.writeFrame(Frames.OK, new byte[0], sendMillis);
                        } catch (TransferException e) {
                            wire.writeError(e, sendMillis);
                        }
                    }
                    case Frames.DONE_BATCH -> {
                        // Decoded whole before any transfer is touched: a malformed batch ends the
                        // connection and frees nothing.
                        DoneBatch batch = DoneBatch.decode(payload);
                        counters.count("notice_frames");
                        try {
                            source.done(batch.transfers(), connection);
                            wire.writeFrame(Frames.OK, new byte[0], sendMillis);
                        } catch (TransferException e) {
                            wire.writeError(e, sendMillis);
                        }
                    }
                    default -> {
                        if (ext == null || !ext.handle(h, payload, wire, sendMillis)) {
                            throw new IOException("unexpected message type " + h.type());
                        }
                    }
                }
            }
        }

        /**
         * Answers {@code req} straight from the KV cache where the source can send that way: the
         * header, then the blocks written by the engine into the socket, with no copy into staging.
         * A refusal is answered as an {@code ERROR} frame, as a staged read's.
         *
         * @return false if the source cannot send directly (nothing was written): stage the read
         * @throws IOException if the connection must end, among others when the send fails after
         *     its header went out
         */
        private boolean sentDirectly(Wire wire, ReadRequest req) throws IOException {
            Optional<DirectSend> opened;
            try {
                opened = source.openSend(req.transfer(), req.blocks());
            } catch (TransferException e) {
                wire.writeError(e, sendMillis);
                return true;
            }
            if (opened.isEmpty()) {
                return false;
            }
            long deadline = System.nanoTime() + sendMillis * 1_000_000L;
            try (DirectSend send = opened.get()) {
                wire.writeFully(Wire.header(Frames.DATA, Math.toIntExact(send.remaining())), sendMillis);
                wire.writeFully(send, Wire.millisLeft(deadline));
            }
            return true;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            closeQuietly(server);
            for (Wire w : connections) {
                w.close();
            }
            // Wait (bounded) for the handlers, so their staging buffers are closed before the
            // engine looks for leaked host buffers.
            try {
                if (acceptor != null) {
                    acceptor.join(2_000);
                }
                for (Thread t : handlers) {
                    t.join(2_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (extension != null) {
                extension.close();
            }
        }
    }
}
