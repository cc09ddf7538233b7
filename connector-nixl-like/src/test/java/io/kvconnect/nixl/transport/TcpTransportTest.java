package io.kvconnect.nixl.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.DoneBatch;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.Handshake;
import io.kvconnect.nixl.protocol.SharedSecret;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import io.kvconnect.nixl.protocol.Wire;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The TCP backend on its own: handshake, one-sided reads, tokens, and every way a transfer can break. */
class TcpTransportTest {
    private static final ModelShape MODEL = new ModelShape("m", 2, 2, 16, DType.FP16);
    private static final Duration SHORT = Duration.ofMillis(500);
    private final TcpTransport tcp = new TcpTransport();

    /** The connector version both sides of these tests announce (the transport only compares it). */
    static final String CONNECTOR_VERSION = "test";

    static Compat compat(String engine, ModelShape model, int blockSize) {
        long perLayer = model.bytesPerTokenPerLayer(1) * blockSize;
        return Compat.of(
                engine,
                CONNECTOR_VERSION,
                new KvLayout(model, 0, 1, 16, blockSize, perLayer, LayoutKind.PER_LAYER, MemoryKind.HOST));
    }

    /** The token of the test transfer "t1". */
    static final String TOKEN = "0123456789abcdef0123456789abcdef";

    static final TransferRef T1 = new TransferRef("t1", TOKEN);

    static ConnectOptions client(String secret) {
        return ConnectOptions.of(secret, SHORT);
    }

    /**
     * Serves transfer "t1" with token {@link #TOKEN} (blocks 0 to 63; each block filled with its
     * id); "gone" has expired; records notifications.
     */
    static class Source implements BlockSource {
        final long blockBytes;
        final List<String> done = new CopyOnWriteArrayList<>();

        Source(long blockBytes) {
            this.blockBytes = blockBytes;
        }

        @Override
        public long blockBytes() {
            return blockBytes;
        }

        @Override
        public HostBlockBuffer allocateStaging(int slots) {
            return new ArenaBlockBuffer(slots, blockBytes);
        }

        @Override
        public void check(TransferRef transfer, int[] blocks) throws TransferException {
            if (transfer.id().equals("gone")) {
                throw new TransferException(TransferException.Kind.EXPIRED, "lease expired");
            }
            if (!transfer.id().equals("t1")) {
                throw new TransferException(TransferException.Kind.UNKNOWN_TRANSFER, "unknown " + transfer);
            }
            if (!T1.tokenMatches(transfer.token())) {
                throw new TransferException(TransferException.Kind.FAILED, "wrong token");
            }
            if (blocks.length > 64) {
                throw new TransferException(TransferException.Kind.FAILED, "transfer t1 has 64 blocks");
            }
            for (int b : blocks) {
                if (b < 0 || b >= 64) {
                    throw new TransferException(
                            TransferException.Kind.FAILED, "block " + b + " is not part of transfer t1");
                }
            }
        }

        @Override
        public void read(TransferRef transfer, int[] blocks, HostBlockBuffer staging) throws TransferException {
            check(transfer, blocks);
            for (int i = 0; i < blocks.length; i++) {
                staging.slot(i).fill((byte) blocks[i]);
            }
        }

        @Override
        public void done(TransferRef transfer, long connection) throws TransferException {
            if (transfer.id().equals("t1") && !T1.tokenMatches(transfer.token())) {
                throw new TransferException(TransferException.Kind.FAILED, "wrong token");
            }
            done.add(transfer.id());
        }
    }

    @Test
    void readsBlocksAfterAHandshake() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        var source = new Source(
                server.fields().get("bytes_per_block").isEmpty()
                        ? 0
                        : Long.parseLong(server.fields().get("bytes_per_block")));
        try (var listener = tcp.listen("127.0.0.1", 0, server, ListenOptions.of("s3cret"), source);
                var into = new ArenaBlockBuffer(4, source.blockBytes);
                var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), client("s3cret"))) {
            assertEquals("prefill", peer.remote().engineId());
            peer.read(T1, new int[] {3, 5}, into);
            assertEquals(3, into.slot(0).get(ValueLayout.JAVA_BYTE, source.blockBytes - 1));
            assertEquals(5, into.slot(1).get(ValueLayout.JAVA_BYTE, 0));
            peer.done(T1);
            peer.done(T1); // idempotent on the wire; the source decides what a duplicate means
            assertEquals(List.of("t1", "t1"), source.done);
            assertEquals(Map.of("handshakes_ok", 1L, "notice_frames", 2L), listener.takeCounters());
        }
    }

    @Test
    void doneNoticesForSeveralTransfersTravelAsOneFrameWithOneAnswer() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        var source = new Source(Long.parseLong(server.fields().get("bytes_per_block")));
        var transfers = List.of(T1, new TransferRef("t2", TOKEN), new TransferRef("t3", TOKEN));
        try (var listener = tcp.listen("127.0.0.1", 0, server, ListenOptions.of("s3cret"), source);
                var relay = new FrameRelay(listener.port(), f -> f);
                var peer = tcp.connect("127.0.0.1", relay.port(), compat("decode", MODEL, 4), client("s3cret"))) {
            peer.done(transfers);
            assertEquals(List.of("t1", "t2", "t3"), source.done);
            var notices = relay.frames.stream()
                    .filter(f -> !f.toReader() && (f.type() == Frames.DONE || f.type() == Frames.DONE_BATCH))
                    .toList();
            assertEquals(1, notices.size());
            assertEquals(Frames.DONE_BATCH, notices.getFirst().type());
            assertEquals(
                    transfers, DoneBatch.decode(notices.getFirst().payload()).transfers());
            var answers = relay.frames.stream()
                    .filter(f -> f.toReader() && f.type() == Frames.OK)
                    .count();
            assertEquals(2, answers, "the handshake's confirmation and the notice's answer");
            assertEquals(1L, listener.takeCounters().get("notice_frames"));
        }
    }

    @Test
    void aWrongTokenInANoticeIsRefusedWithoutKeepingTheOthersFromBeingFreed() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        var source = new Source(Long.parseLong(server.fields().get("bytes_per_block")));
        try (var listener = tcp.listen("127.0.0.1", 0, server, ListenOptions.of(""), source);
                var into = new ArenaBlockBuffer(4, source.blockBytes);
                var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), client(""))) {
            var e = assertThrows(
                    TransferException.class,
                    () -> peer.done(List.of(new TransferRef("t1", ""), new TransferRef("t2", TOKEN))));
            assertEquals(TransferException.Kind.FAILED, e.kind());
            assertTrue(e.getMessage().contains("1 of 2 transfer(s) refused"), e.getMessage());
            assertTrue(e.getMessage().contains("wrong token"), e.getMessage());
            assertEquals(List.of("t2"), source.done);
            // A refusal answers the notice; the connection stays in step.
            peer.read(T1, new int[] {2}, into);
            assertEquals(2, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void refusedReadsSayWhyAndKeepTheConnection() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        var source = new Source(Long.parseLong(server.fields().get("bytes_per_block")));
        try (var listener = tcp.listen("127.0.0.1", 0, server, ListenOptions.of(""), source);
                var into = new ArenaBlockBuffer(4, source.blockBytes);
                var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), client(""))) {
            var unknown = assertThrows(
                    TransferException.class, () -> peer.read(new TransferRef("nope", TOKEN), new int[] {1}, into));
            assertEquals(TransferException.Kind.UNKNOWN_TRANSFER, unknown.kind());
            var expired = assertThrows(
                    TransferException.class, () -> peer.read(new TransferRef("gone", TOKEN), new int[] {1}, into));
            assertEquals(TransferException.Kind.EXPIRED, expired.kind());
            var token = assertThrows(
                    TransferException.class,
                    () -> peer.read(new TransferRef("t1", "f" + TOKEN.substring(1)), new int[] {1}, into));
            assertEquals(TransferException.Kind.FAILED, token.kind());
            var done = assertThrows(TransferException.class, () -> peer.done(new TransferRef("t1", "")));
            assertTrue(done.getMessage().contains("wrong token"), done.getMessage());
            assertEquals(List.of(), source.done);
            peer.read(T1, new int[] {7}, into);
            assertEquals(7, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void wrongSecretIsRefused() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        try (var listener = tcp.listen("127.0.0.1", 0, server, ListenOptions.of("right"), new Source(1))) {
            var e = assertThrows(
                    TransferException.class,
                    () -> tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), client("wrong")));
            assertEquals(TransferException.Kind.HANDSHAKE, e.kind());
            assertTrue(e.getMessage().contains("shared secret does not match"), e.getMessage());
            assertEquals(Map.of("handshakes_refused_secret", 1L), listener.takeCounters());
        }
    }

    @Test
    void incompatiblePeersAreRefusedNamingTheField() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        try (var listener = tcp.listen("127.0.0.1", 0, server, ListenOptions.of(""), new Source(1))) {
            var e = assertThrows(
                    TransferException.class,
                    () -> tcp.connect(
                            "127.0.0.1",
                            listener.port(),
                            compat("decode", new ModelShape("m", 3, 2, 16, DType.FP16), 4),
                            client("")));
            assertEquals(TransferException.Kind.HANDSHAKE, e.kind());
            assertTrue(
                    e.getMessage()
                            .contains("num_layers differs: this engine (decode) has 3, the peer (prefill) " + "has 2"),
                    e.getMessage());
            var bs = assertThrows(
                    TransferException.class,
                    () -> tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 8), client("")));
            assertTrue(
                    bs.getMessage().contains("block_size differs")
                            && bs.getMessage().contains("set the same " + "block_size on both engines"),
                    bs.getMessage());
            // Both sides compared the fields and refused.
            assertEquals(Map.of("handshakes_refused_incompatible", 2L), listener.takeCounters());
        }
    }

    @Test
    void nobodyListeningIsARefusedConnection() throws Exception {
        int port;
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        var e = assertThrows(
                TransferException.class, () -> tcp.connect("127.0.0.1", port, compat("decode", MODEL, 4), client("")));
        assertEquals(TransferException.Kind.REFUSED, e.kind());
    }

    @Test
    void aSilentPeerTimesOut() throws Exception {
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // Accepts (the kernel does) but never says a word.
            var e = assertThrows(
                    TransferException.class,
                    () -> tcp.connect(
                            "127.0.0.1",
                            s.getLocalPort(),
                            compat("decode", MODEL, 4),
                            ConnectOptions.of("", Duration.ofMillis(100))));
            assertEquals(TransferException.Kind.TIMEOUT, e.kind());
        }
    }

    /**
     * Accepts one connection on {@code server} and plays the producer's side of the handshake with
     * {@code secret} and {@code fields}: a fake producer that knows the secret, for tests of what a
     * reader does with the answers that follow.
     */
    static Wire acceptAuthenticated(ServerSocketChannel server, Compat fields, String secret) throws IOException {
        Wire wire = new Wire(server.accept());
        long deadline = System.nanoTime() + 5_000_000_000L;
        var outcome = Handshake.asProducer(wire, fields, SharedSecret.of(secret), deadline);
        Handshake.confirm(wire, assertInstanceOf(Handshake.Accepted.class, outcome), deadline);
        return wire;
    }

    static ServerSocketChannel loopbackServer() throws IOException {
        return ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    static int port(ServerSocketChannel server) throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    @Test
    void aTransferCutShortIsDetected() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        long blockBytes = Long.parseLong(server.fields().get("bytes_per_block"));
        try (var s = loopbackServer()) {
            List<Throwable> serverErrors = new CopyOnWriteArrayList<>();
            Thread fake = Thread.ofPlatform().start(() -> {
                try (Wire w = acceptAuthenticated(s, server, "")) {
                    w.readPayload(w.readHeader(5_000), 5_000);
                    // Announce two blocks, send half of one, hang up.
                    w.writeHeader(Frames.DATA, (int) (2 * blockBytes), 5_000);
                    w.writeFully(ByteBuffer.allocate((int) (blockBytes / 2)), 5_000);
                } catch (Exception | AssertionError e) {
                    serverErrors.add(e);
                }
            });
            try (var into = new ArenaBlockBuffer(2, blockBytes);
                    var peer = tcp.connect("127.0.0.1", port(s), compat("decode", MODEL, 4), client(""))) {
                var e = assertThrows(TransferException.class, () -> peer.read(T1, new int[] {1, 2}, into));
                assertEquals(TransferException.Kind.TRUNCATED, e.kind());
            }
            fake.join();
            assertEquals(List.of(), serverErrors);
        }
    }

    @Test
    void aDataFrameOfTheWrongLengthIsRejected() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        long blockBytes = Long.parseLong(server.fields().get("bytes_per_block"));
        try (var s = loopbackServer()) {
            Thread fake = Thread.ofPlatform().start(() -> {
                try (Wire w = acceptAuthenticated(s, server, "")) {
                    w.readPayload(w.readHeader(5_000), 5_000);
                    w.writeFrame(Frames.DATA, new byte[(int) blockBytes], 5_000); // one, not two
                    w.readHeader(5_000); // wait for the client to hang up
                } catch (Exception e) {
                    // the client hangs up
                }
            });
            try (var into = new ArenaBlockBuffer(2, blockBytes);
                    var peer = tcp.connect("127.0.0.1", port(s), compat("decode", MODEL, 4), client(""))) {
                var e = assertThrows(TransferException.class, () -> peer.read(T1, new int[] {1, 2}, into));
                assertEquals(TransferException.Kind.FAILED, e.kind());
                assertTrue(e.getMessage().contains("expected " + 2 * blockBytes + " bytes"), e.getMessage());
            }
            fake.join();
        }
    }
}
