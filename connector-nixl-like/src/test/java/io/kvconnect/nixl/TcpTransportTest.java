package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The TCP backend on its own: handshake, one-sided reads, and every way a transfer can break. */
class TcpTransportTest {
    private static final ModelShape MODEL = new ModelShape("m", 2, 2, 16, DType.FP16);
    private static final Duration SHORT = Duration.ofMillis(500);
    private final TcpTransport tcp = new TcpTransport();

    static Compat compat(String engine, ModelShape model, int blockSize) {
        long perLayer = model.bytesPerTokenPerLayer(1) * blockSize;
        return Compat.of(engine, new KvLayout(model, 0, 1, 16, blockSize, perLayer, LayoutKind.PER_LAYER,
                MemoryKind.HOST));
    }

    /** Host buffer slots on the heap's arena, for tests without an engine. */
    static final class Buffer implements HostBlockBuffer {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment memory;
        private final int slots;
        private final long slotBytes;

        Buffer(int slots, long slotBytes) {
            this.slots = slots;
            this.slotBytes = slotBytes;
            this.memory = arena.allocate(slots * slotBytes);
        }

        @Override
        public int numSlots() {
            return slots;
        }

        @Override
        public long slotBytes() {
            return slotBytes;
        }

        @Override
        public MemorySegment slot(int slot) {
            return memory.asSlice(slot * slotBytes, slotBytes);
        }

        @Override
        public void close() {
            if (arena.scope().isAlive()) {
                arena.close();
            }
        }
    }

    /**
     * Serves transfer "t1" (any 64 block ids; each block filled with its id); "gone" has expired;
     * records notifications.
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
            return new Buffer(slots, blockBytes);
        }

        @Override
        public void check(String transferId, int[] blocks) throws TransferException {
            if (transferId.equals("gone")) {
                throw new TransferException(TransferException.Kind.EXPIRED, "lease expired");
            }
            if (!transferId.equals("t1")) {
                throw new TransferException(TransferException.Kind.UNKNOWN_TRANSFER, "unknown " + transferId);
            }
            if (blocks.length > 64) {
                throw new TransferException(TransferException.Kind.FAILED, "transfer t1 has 64 blocks");
            }
        }

        @Override
        public void read(String transferId, int[] blocks, HostBlockBuffer staging) throws TransferException {
            check(transferId, blocks);
            for (int i = 0; i < blocks.length; i++) {
                staging.slot(i).fill((byte) blocks[i]);
            }
        }

        @Override
        public void done(String transferId) {
            done.add(transferId);
        }
    }

    @Test
    void readsBlocksAfterAHandshake() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        var source = new Source(server.fields().get("bytes_per_block").isEmpty() ? 0
                : Long.parseLong(server.fields().get("bytes_per_block")));
        try (var listener = tcp.listen("127.0.0.1", 0, server, "s3cret", source);
             var into = new Buffer(4, source.blockBytes);
             var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), "s3cret", SHORT, SHORT)) {
            assertEquals("prefill", peer.remote().engineId());
            peer.read("t1", new int[] {3, 5}, into);
            assertEquals(3, into.slot(0).get(ValueLayout.JAVA_BYTE, source.blockBytes - 1));
            assertEquals(5, into.slot(1).get(ValueLayout.JAVA_BYTE, 0));
            peer.done("t1");
            peer.done("t1"); // idempotent on the wire; the source decides what a duplicate means
            assertEquals(List.of("t1", "t1"), source.done);
        }
    }

    @Test
    void refusedReadsSayWhyAndKeepTheConnection() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        var source = new Source(Long.parseLong(server.fields().get("bytes_per_block")));
        try (var listener = tcp.listen("127.0.0.1", 0, server, "", source);
             var into = new Buffer(4, source.blockBytes);
             var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), "", SHORT, SHORT)) {
            var unknown = assertThrows(TransferException.class, () -> peer.read("nope", new int[] {1}, into));
            assertEquals(TransferException.Kind.UNKNOWN_TRANSFER, unknown.kind());
            var expired = assertThrows(TransferException.class, () -> peer.read("gone", new int[] {1}, into));
            assertEquals(TransferException.Kind.EXPIRED, expired.kind());
            peer.read("t1", new int[] {7}, into);
            assertEquals(7, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void wrongSecretIsRefused() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        try (var listener = tcp.listen("127.0.0.1", 0, server, "right", new Source(1))) {
            var e = assertThrows(TransferException.class, () -> tcp.connect("127.0.0.1", listener.port(),
                    compat("decode", MODEL, 4), "wrong", SHORT, SHORT));
            assertEquals(TransferException.Kind.HANDSHAKE, e.kind());
            assertTrue(e.getMessage().contains("shared secret does not match"), e.getMessage());
        }
    }

    @Test
    void incompatiblePeersAreRefusedNamingTheField() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        try (var listener = tcp.listen("127.0.0.1", 0, server, "", new Source(1))) {
            var e = assertThrows(TransferException.class, () -> tcp.connect("127.0.0.1", listener.port(),
                    compat("decode", new ModelShape("m", 3, 2, 16, DType.FP16), 4), "", SHORT, SHORT));
            assertEquals(TransferException.Kind.HANDSHAKE, e.kind());
            assertTrue(e.getMessage().contains("num_layers differs: this engine (decode) has 3, the peer (prefill) "
                    + "has 2"), e.getMessage());
            var bs = assertThrows(TransferException.class, () -> tcp.connect("127.0.0.1", listener.port(),
                    compat("decode", MODEL, 8), "", SHORT, SHORT));
            assertTrue(bs.getMessage().contains("block_size differs") && bs.getMessage().contains("set the same "
                    + "block_size on both engines"), bs.getMessage());
        }
    }

    @Test
    void nobodyListeningIsARefusedConnection() throws Exception {
        int port;
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        var e = assertThrows(TransferException.class, () -> tcp.connect("127.0.0.1", port,
                compat("decode", MODEL, 4), "", SHORT, SHORT));
        assertEquals(TransferException.Kind.REFUSED, e.kind());
    }

    @Test
    void aSilentPeerTimesOut() throws Exception {
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // Accepts (the kernel does) but never says a word.
            var e = assertThrows(TransferException.class, () -> tcp.connect("127.0.0.1", s.getLocalPort(),
                    compat("decode", MODEL, 4), "", Duration.ofMillis(100), Duration.ofMillis(100)));
            assertEquals(TransferException.Kind.TIMEOUT, e.kind());
        }
    }

    @Test
    void aTransferCutShortIsDetected() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        long blockBytes = Long.parseLong(server.fields().get("bytes_per_block"));
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Throwable> serverErrors = new ArrayList<>();
            Thread fake = Thread.ofPlatform().start(() -> {
                try (Socket c = s.accept()) {
                    var in = new DataInputStream(new BufferedInputStream(c.getInputStream()));
                    var out = new DataOutputStream(c.getOutputStream());
                    byte[] nonce = new byte[32];
                    TcpTransport.writeFrame(out, TcpTransport.CHALLENGE, TcpTransport.concat(nonce,
                            server.encode().getBytes(StandardCharsets.UTF_8)));
                    TcpTransport.readFrame(in, "test");
                    TcpTransport.writeFrame(out, TcpTransport.OK, new byte[0]);
                    TcpTransport.readFrame(in, "test");
                    // Announce two blocks, send half of one, hang up.
                    out.writeInt(TcpTransport.MAGIC);
                    out.writeByte(TcpTransport.DATA);
                    out.writeInt((int) (2 * blockBytes));
                    out.write(new byte[(int) (blockBytes / 2)]);
                    out.flush();
                } catch (Exception e) {
                    serverErrors.add(e);
                }
            });
            try (var into = new Buffer(2, blockBytes);
                 var peer = tcp.connect("127.0.0.1", s.getLocalPort(), compat("decode", MODEL, 4), "", SHORT, SHORT)) {
                var e = assertThrows(TransferException.class, () -> peer.read("t", new int[] {1, 2}, into));
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
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread fake = Thread.ofPlatform().start(() -> {
                try (Socket c = s.accept()) {
                    var in = new DataInputStream(new BufferedInputStream(c.getInputStream()));
                    var out = new DataOutputStream(c.getOutputStream());
                    TcpTransport.writeFrame(out, TcpTransport.CHALLENGE, TcpTransport.concat(new byte[32],
                            server.encode().getBytes(StandardCharsets.UTF_8)));
                    TcpTransport.readFrame(in, "test");
                    TcpTransport.writeFrame(out, TcpTransport.OK, new byte[0]);
                    TcpTransport.readFrame(in, "test");
                    TcpTransport.writeFrame(out, TcpTransport.DATA, new byte[(int) blockBytes]); // one, not two
                    out.flush();
                    in.read(); // wait for the client to hang up
                } catch (Exception e) {
                    // the client hangs up
                }
            });
            try (var into = new Buffer(2, blockBytes);
                 var peer = tcp.connect("127.0.0.1", s.getLocalPort(), compat("decode", MODEL, 4), "", SHORT, SHORT)) {
                var e = assertThrows(TransferException.class, () -> peer.read("t", new int[] {1, 2}, into));
                assertEquals(TransferException.Kind.FAILED, e.kind());
                assertTrue(e.getMessage().contains("expected " + 2 * blockBytes + " bytes"), e.getMessage());
            }
            fake.join();
        }
    }
}
