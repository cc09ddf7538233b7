package io.kvconnect.nixl;

import io.kvconnect.api.worker.HostBlockBuffer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plain Java TCP backend: one-sided reads as request and response on the producer worker's
 * server socket.
 *
 * <p><b>Wire format.</b> Every message is a frame: magic {@code KVNX} (4 bytes), type (1 byte),
 * payload length (4 bytes, big-endian), payload. Control payloads are at most {@value
 * #MAX_CONTROL} bytes; a data payload is exactly {@code blocks * blockBytes} bytes, checked against
 * the request, so a transfer cut short is detected (end of stream inside a frame is {@code
 * TRUNCATED}) and never taken for KV.
 *
 * <p><b>Handshake.</b> The server sends {@code CHALLENGE} (32 random bytes and its {@link Compat});
 * the client answers {@code HELLO} (HMAC-SHA256 keyed with the SHA-256 of the shared secret over
 * the challenge and the client's fields, then the fields); the server checks the MAC and the fields
 * and answers {@code OK} or {@code ERROR}. Both sides compare the fields, so a mismatch is reported
 * on both with the differing field named. A stranger without the secret gets no block.
 *
 * <p><b>Requests.</b> {@code READ} (transfer id, block ids) is answered by {@code DATA} or {@code
 * ERROR} (kind and message); {@code DONE} (transfer id) by {@code OK}. Every wait is bounded
 * ({@link Wire}), so a dead or silent peer ends a transfer in bounded time. Block data moves
 * between the socket and the staging buffers (allocated once per connection on the producer, once
 * per worker on the consumer) without an intermediate copy.
 *
 * <p>The stream-based {@code writeFrame} and {@code readFrame} helpers speak the same format over
 * classic streams; tests use them to play a misbehaving peer.
 *
 * <p>{@link UcxTransport} reuses this connection, handshake and framing as its control channel
 * ({@link #openControl}, {@link ServerExtension}): message types 8 to 10 are its own. Both sides
 * announce their backend in the handshake's informational {@code transport} field.
 */
final class TcpTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(TcpTransport.class);

    static final int MAGIC = 0x4B564E58;
    static final int MAX_CONTROL = 1 << 20;
    /** Most blocks one read may name: the largest {@code chunk_blocks}. */
    static final int MAX_READ_BLOCKS = 4096;
    static final byte CHALLENGE = 1;
    static final byte HELLO = 2;
    static final byte OK = 3;
    static final byte ERROR = 4;
    static final byte READ = 5;
    static final byte DATA = 6;
    static final byte DONE = 7;

    private static final SecureRandom RANDOM = new SecureRandom();

    @Override
    public String name() {
        return "tcp";
    }

    @Override
    public Listener listen(String host, int port, Compat local, String secret, BlockSource source) throws IOException {
        return listen(host, port, local.withTransport(name()), secret, source, null);
    }

    /**
     * Binds and starts a listener whose connections also accept the control frames of {@code
     * extension} (null: none). Shared with {@link UcxTransport}, which adds its data path to this
     * control connection.
     */
    static Listener listen(String host, int port, Compat local, String secret, BlockSource source,
                           ServerExtension extension) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(InetAddress.getByName(host), port), 64);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        TcpListener listener = new TcpListener(server, local, secret, source, extension);
        listener.start();
        return listener;
    }

    @Override
    public Peer connect(String host, int port, Compat local, String secret, Duration connectTimeout,
                        Duration ioTimeout) throws TransferException {
        Control c = openControl(host, port, local.withTransport(name()), secret, connectTimeout);
        return new TcpPeer(c.wire(), c.remote(), c.where(), timeoutMillis(ioTimeout));
    }

    /**
     * A handshaken control connection, client side.
     *
     * @param wire the connection
     * @param remote the producer's handshake fields
     * @param where {@code host:port}, for messages
     */
    record Control(Wire wire, Compat remote, String where) {
    }

    /**
     * Connects to {@code host:port} and runs the client side of the handshake (see the class
     * description) within {@code connectTimeout}. Shared by both backends.
     *
     * @throws TransferException if the connection or the handshake fails (kind says which)
     */
    static Control openControl(String host, int port, Compat local, String secret, Duration connectTimeout)
            throws TransferException {
        String where = host + ":" + port;
        SocketChannel channel = null;
        Wire wire = null;
        long handshake = timeoutMillis(connectTimeout);
        try {
            channel = SocketChannel.open();
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (!channel.connect(new InetSocketAddress(host, port))) {
                try (Selector s = Selector.open()) {
                    channel.register(s, SelectionKey.OP_CONNECT);
                    if (s.select(handshake) == 0) {
                        throw new SocketTimeoutException("connect timed out");
                    }
                    channel.finishConnect();
                }
            }
            wire = new Wire(channel);
            var h = wire.readHeader(handshake);
            byte[] challenge = wire.readPayload(h, handshake);
            if (h.type() == ERROR) {
                throw new TransferException(TransferException.Kind.HANDSHAKE, where + ": "
                        + errorMessage(concat(new byte[] {ERROR}, challenge)));
            }
            if (h.type() != CHALLENGE || challenge.length < 32) {
                throw new TransferException(TransferException.Kind.HANDSHAKE, where + " sent no valid challenge");
            }
            byte[] nonce = Arrays.copyOf(challenge, 32);
            Compat remote = Compat.decode(new String(challenge, 32, challenge.length - 32, StandardCharsets.UTF_8));
            byte[] mine = local.encode().getBytes(StandardCharsets.UTF_8);
            wire.writeFrame(HELLO, concat(mac(secret, nonce, mine), mine), handshake);
            var rh = wire.readHeader(handshake);
            byte[] reply = concat(new byte[] {rh.type()}, wire.readPayload(rh, handshake));
            var problem = local.mismatch(remote);
            if (problem.isPresent()) {
                throw new TransferException(TransferException.Kind.HANDSHAKE, "handshake with " + where + " failed: "
                        + problem.get());
            }
            if (reply[0] == ERROR) {
                throw new TransferException(TransferException.Kind.HANDSHAKE, "handshake with " + where
                        + " refused: " + errorMessage(reply));
            }
            if (reply[0] != OK) {
                throw new TransferException(TransferException.Kind.FAILED, where + " answered the handshake with "
                        + "message type " + reply[0]);
            }
            return new Control(wire, remote, where);
        } catch (TransferException e) {
            closeQuietly(wire, channel);
            throw e;
        } catch (ConnectException e) {
            closeQuietly(wire, channel);
            throw new TransferException(TransferException.Kind.REFUSED, "cannot connect to " + where + ": "
                    + e.getMessage(), e);
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

    static void writeFrame(DataOutputStream out, byte type, byte[] payload) throws IOException {
        out.writeInt(MAGIC);
        out.writeByte(type);
        out.writeInt(payload.length);
        out.write(payload);
    }

    /** Reads one control frame; returns type in element 0 followed by the payload. */
    static byte[] readFrame(DataInputStream in, String where) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new IOException(where + " is not speaking the nixl-like protocol (magic " + Integer.toHexString(magic)
                    + ")");
        }
        byte type = in.readByte();
        int length = in.readInt();
        if (length < 0 || length > MAX_CONTROL) {
            throw new IOException(where + " sent a control frame of " + length + " bytes (at most " + MAX_CONTROL
                    + ")");
        }
        byte[] frame = new byte[length + 1];
        frame[0] = type;
        in.readFully(frame, 1, length);
        return frame;
    }

    static byte[] errorPayload(TransferException.Kind kind, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        byte[] p = new byte[1 + Math.min(text.length, 4096)];
        p[0] = (byte) kind.ordinal();
        System.arraycopy(text, 0, p, 1, p.length - 1);
        return p;
    }

    /** The kind of an {@code ERROR} frame (type byte first). */
    static TransferException.Kind errorKind(byte[] frame) {
        var kinds = TransferException.Kind.values();
        return frame.length > 1 && frame[1] >= 0 && frame[1] < kinds.length ? kinds[frame[1]]
                : TransferException.Kind.FAILED;
    }

    static String errorMessage(byte[] frame) {
        return frame.length > 2 ? new String(frame, 2, frame.length - 2, StandardCharsets.UTF_8) : "(no message)";
    }

    static byte[] mac(String secret, byte[] nonce, byte[] fields) {
        try {
            byte[] key = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(nonce);
            mac.update(fields);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static byte[] encodeRead(String transferId, int[] blocks) {
        byte[] id = transferId.getBytes(StandardCharsets.UTF_8);
        var buf = java.nio.ByteBuffer.allocate(4 + id.length + 4 + 4 * blocks.length);
        buf.putInt(id.length).put(id).putInt(blocks.length);
        for (int b : blocks) {
            buf.putInt(b);
        }
        return buf.array();
    }

    static TransferException classify(Exception e, String what) {
        if (e instanceof TransferException t) {
            return t;
        }
        if (e instanceof SocketTimeoutException) {
            return new TransferException(TransferException.Kind.TIMEOUT, what + ": no answer in time", e);
        }
        if (e instanceof EOFException) {
            return new TransferException(TransferException.Kind.TRUNCATED, what + ": the peer closed the connection "
                    + "in the middle of a message", e);
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

        TcpPeer(Wire wire, Compat remote, String where, long ioMillis) {
            this.wire = wire;
            this.remote = remote;
            this.where = where;
            this.ioMillis = ioMillis;
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
        public void read(String transferId, int[] remoteBlocks, HostBlockBuffer into) throws TransferException {
            if (remoteBlocks.length > into.numSlots()) {
                throw new IllegalArgumentException(remoteBlocks.length + " blocks do not fit " + into.numSlots()
                        + " slots");
            }
            String what = "read of transfer " + transferId + " from " + where;
            try {
                wire.writeFrame(READ, encodeRead(transferId, remoteBlocks), ioMillis);
                var h = wire.readHeader(ioMillis);
                if (h.type() == ERROR) {
                    byte[] frame = concat(new byte[] {ERROR}, wire.readPayload(h, ioMillis));
                    throw new TransferException(errorKind(frame), what + ": " + errorMessage(frame));
                }
                long expected = remoteBlocks.length * into.slotBytes();
                if (h.type() != DATA || h.length() != expected) {
                    throw new IOException("expected " + expected + " bytes of data, got message type " + h.type()
                            + " of " + h.length() + " bytes");
                }
                // Straight from the socket into the staging buffer: no intermediate copy.
                var slots = new java.nio.ByteBuffer[remoteBlocks.length];
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
        public void done(String transferId) throws TransferException {
            String what = "done notification of transfer " + transferId + " to " + where;
            try {
                wire.writeFrame(DONE, transferId.getBytes(StandardCharsets.UTF_8), ioMillis);
                var h = wire.readHeader(ioMillis);
                wire.readPayload(h, ioMillis);
                if (h.type() != OK) {
                    throw new TransferException(TransferException.Kind.FAILED, what + ": answered with type "
                            + h.type());
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
        /** The handler of one connection's extra frames. */
        ConnectionExtension open(String who);

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
        boolean handle(Wire.Header h, byte[] payload, Wire wire, Staging staging, long sendMillis) throws IOException;

        /** Releases what the handler holds; called before the connection's staging buffer is closed. */
        @Override
        void close();
    }

    /** A decoded {@code READ} request (also used by other backends' requests of the same form). */
    record ReadRequest(String transferId, int[] blocks) {
        static ReadRequest decode(byte[] payload) throws IOException {
            var req = java.nio.ByteBuffer.wrap(payload);
            int idLen = req.getInt();
            if (idLen < 0 || idLen > req.remaining()) {
                throw new IOException("malformed read request");
            }
            byte[] id = new byte[idLen];
            req.get(id);
            int n = req.getInt();
            if (n <= 0 || n > req.remaining() / 4) {
                throw new IOException("malformed read request: " + n + " blocks");
            }
            int[] blocks = new int[n];
            for (int i = 0; i < n; i++) {
                blocks[i] = req.getInt();
            }
            return new ReadRequest(new String(id, StandardCharsets.UTF_8), blocks);
        }
    }

    /**
     * One connection's staging buffer on the producer: allocated on the first read, grown (rarely)
     * for a larger one, reused by every later read, closed with the connection. Used by the
     * connection's thread only.
     */
    static final class Staging implements AutoCloseable {
        private final BlockSource source;
        private HostBlockBuffer buffer;

        Staging(BlockSource source) {
            this.source = source;
        }

        /**
         * Copies {@code req}'s blocks into slots {@code 0 .. n - 1} of the staging buffer and returns
         * it (the same buffer as last time unless it had to grow). The request is checked ({@link
         * BlockSource#check}) before the buffer grows, so its size is bounded by the transfer's.
         *
         * @throws TransferException as {@link BlockSource#read}, or {@code FAILED} for more than
         *     {@value #MAX_READ_BLOCKS} blocks
         */
        HostBlockBuffer fill(ReadRequest req) throws TransferException {
            int n = req.blocks().length;
            // Before sizing the buffer: the request's block count is the reader's word, and a
            // control frame may name up to a quarter million blocks.
            if (n > MAX_READ_BLOCKS) {
                throw new TransferException(TransferException.Kind.FAILED, "a read of " + n + " blocks; at most "
                        + MAX_READ_BLOCKS + " per request");
            }
            source.check(req.transferId(), req.blocks());
            if (buffer == null || n > buffer.numSlots()) {
                if (buffer != null) {
                    buffer.close();
                    buffer = null;
                }
                buffer = source.allocateStaging(Math.max(n, 16));
            }
            source.read(req.transferId(), req.blocks(), buffer);
            return buffer;
        }

        long blockBytes() {
            return source.blockBytes();
        }

        @Override
        public void close() {
            if (buffer != null) {
                buffer.close();
                buffer = null;
            }
        }
    }

    /** Accepts connections and serves each on a thread of its own. */
    private static final class TcpListener implements Listener {
        /** Bound on the handshake of a new connection, so a stranger cannot hold a thread. */
        private static final long HANDSHAKE_MILLIS = 10_000;
        /** Bound on sending one answer to a reader that stopped reading. */
        private static final long SEND_MILLIS = 60_000;

        private final ServerSocketChannel server;
        private final Compat local;
        private final String secret;
        private final BlockSource source;
        private final ServerExtension extension;
        private final Set<Wire> connections = ConcurrentHashMap.newKeySet();
        private final Set<Thread> handlers = ConcurrentHashMap.newKeySet();
        private final int port;
        private volatile boolean closed;
        private Thread acceptor;

        TcpListener(ServerSocketChannel server, Compat local, String secret, BlockSource source,
                    ServerExtension extension) throws IOException {
            this.server = server;
            this.extension = extension;
            this.local = local;
            this.secret = secret;
            this.source = source;
            this.port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        }

        void start() {
            acceptor = Thread.ofPlatform().daemon().name("nixl-accept-" + local.engineId() + "-" + local.rank())
                    .start(this::acceptLoop);
        }

        @Override
        public int port() {
            return port;
        }

        private void acceptLoop() {
            while (!closed) {
                try {
                    SocketChannel c = server.accept();
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    Wire wire = new Wire(c);
                    connections.add(wire);
                    if (closed) {
                        wire.close();
                        break;
                    }
                    String who = String.valueOf(c.getRemoteAddress());
                    Thread t = Thread.ofPlatform().daemon().name("nixl-serve-" + local.rank() + "-" + who)
                            .unstarted(() -> serve(wire, who));
                    handlers.add(t);
                    t.start();
                } catch (IOException e) {
                    if (!closed) {
                        LOG.warn("nixl-like: accepting on port {} failed: {}", port, e.toString());
                    }
                }
            }
        }

        private void serve(Wire wire, String who) {
            Staging staging = new Staging(source);
            ConnectionExtension ext = null;
            try {
                byte[] nonce = new byte[32];
                RANDOM.nextBytes(nonce);
                wire.writeFrame(CHALLENGE, concat(nonce, local.encode().getBytes(StandardCharsets.UTF_8)),
                        HANDSHAKE_MILLIS);
                var hh = wire.readHeader(HANDSHAKE_MILLIS);
                byte[] hello = wire.readPayload(hh, HANDSHAKE_MILLIS);
                if (hh.type() != HELLO || hello.length < 32) {
                    throw new IOException("expected a hello");
                }
                byte[] fields = Arrays.copyOfRange(hello, 32, hello.length);
                if (!MessageDigest.isEqual(Arrays.copyOf(hello, 32), mac(secret, nonce, fields))) {
                    LOG.warn("nixl-like: refused {}: the shared secret does not match", who);
                    wire.writeFrame(ERROR, errorPayload(TransferException.Kind.HANDSHAKE,
                            "the shared secret does not match; configure the same 'secret' on both engines"),
                            HANDSHAKE_MILLIS);
                    return;
                }
                Compat remote = Compat.decode(new String(fields, StandardCharsets.UTF_8));
                var problem = local.mismatch(remote);
                if (problem.isPresent()) {
                    LOG.error("nixl-like: refused reader {} ({}): {}", remote.engineId(), who, problem.get());
                    wire.writeFrame(ERROR, errorPayload(TransferException.Kind.HANDSHAKE, problem.get()),
                            HANDSHAKE_MILLIS);
                    return;
                }
                wire.writeFrame(OK, new byte[0], HANDSHAKE_MILLIS);
                LOG.debug("nixl-like: reader {} rank {} ({}) connected from {}", remote.engineId(), remote.rank(),
                        remote.transport(), who);
                if (extension != null) {
                    ext = extension.open(who);
                }
                while (!closed) {
                    Wire.Header h;
                    try {
                        // The reader keeps the connection for later transfers; it may be idle for long.
                        h = wire.readHeader(0);
                    } catch (EOFException e) {
                        return; // the reader closed the connection
                    }
                    byte[] payload = wire.readPayload(h, HANDSHAKE_MILLIS);
                    switch (h.type()) {
                        case READ -> {
                            ReadRequest req = ReadRequest.decode(payload);
                            HostBlockBuffer buffer;
                            try {
                                buffer = staging.fill(req);
                            } catch (TransferException e) {
                                wire.writeFrame(ERROR, errorPayload(e.kind(), e.getMessage()), SEND_MILLIS);
                                continue;
                            }
                            int n = req.blocks().length;
                            wire.writeHeader(DATA, Math.toIntExact(n * source.blockBytes()), SEND_MILLIS);
                            // Straight from the staging buffer into the socket.
                            var slots = new java.nio.ByteBuffer[n];
                            for (int i = 0; i < n; i++) {
                                slots[i] = buffer.slot(i).asByteBuffer();
                            }
                            wire.writeFully(slots, SEND_MILLIS);
                        }
                        case DONE -> {
                            source.done(new String(payload, StandardCharsets.UTF_8));
                            wire.writeFrame(OK, new byte[0], SEND_MILLIS);
                        }
                        default -> {
                            if (ext == null || !ext.handle(h, payload, wire, staging, SEND_MILLIS)) {
                                throw new IOException("unexpected message type " + h.type());
                            }
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.info("nixl-like: connection from {} ended: {}", who, e.toString());
                }
            } finally {
                wire.close();
                connections.remove(wire);
                // The extension first: it may have registered the staging memory with a NIC.
                if (ext != null) {
                    ext.close();
                }
                staging.close();
                handlers.remove(Thread.currentThread());
            }
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
