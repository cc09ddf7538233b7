package io.kvconnect.nixl;

import static io.kvconnect.nixl.TcpTransportTest.compat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.HostBlockBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The UCX backend on its own: the same contract as {@link TcpTransportTest} (handshake, refused
 * reads, wrong secret, incompatible peers, refused connections), plus one-sided gets into buffers
 * whose slots are not contiguous and the fallback to TCP data with a TCP-only producer. Skipped,
 * naming why, where UCX does not work.
 */
class UcxTransportTest {
    private static final ModelShape MODEL = new ModelShape("m", 2, 2, 16, DType.FP16);
    private static final Duration SHORT = Duration.ofMillis(500);
    private final UcxTransport ucx = new UcxTransport();

    @BeforeEach
    void needsUcx() {
        Disagg.assumeAvailable("ucx");
    }

    private static long blockBytes() {
        return Long.parseLong(compat("prefill", MODEL, 4).fields().get("bytes_per_block"));
    }

    @Test
    void readsBlocksWithOneSidedGetsAfterAHandshake() throws Exception {
        var source = new TcpTransportTest.Source(blockBytes());
        try (var listener = ucx.listen("127.0.0.1", 0, compat("prefill", MODEL, 4), "s3cret", source);
             var into = new TcpTransportTest.Buffer(4, source.blockBytes);
             var peer = ucx.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), "s3cret", SHORT,
                     SHORT)) {
            assertEquals("prefill", peer.remote().engineId());
            assertEquals("ucx", peer.remote().transport());
            assertTrue(!(peer instanceof TcpTransport.TcpPeer), "a UCX producer is read over UCX");
            peer.read("t1", new int[] {3, 5}, into);
            assertEquals(3, into.slot(0).get(ValueLayout.JAVA_BYTE, source.blockBytes - 1));
            assertEquals(5, into.slot(1).get(ValueLayout.JAVA_BYTE, 0));
            // Again into the same (already registered) buffer, more blocks than before.
            peer.read("t1", new int[] {9, 8, 7}, into);
            assertEquals(9, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(7, into.slot(2).get(ValueLayout.JAVA_BYTE, source.blockBytes - 1));
            peer.done("t1");
            assertEquals(List.of("t1"), source.done);
        }
    }

    @Test
    void refusedReadsSayWhyAndKeepTheConnection() throws Exception {
        var source = new TcpTransportTest.Source(blockBytes());
        try (var listener = ucx.listen("127.0.0.1", 0, compat("prefill", MODEL, 4), "", source);
             var into = new TcpTransportTest.Buffer(4, source.blockBytes);
             var peer = ucx.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), "", SHORT, SHORT)) {
            var unknown = assertThrows(TransferException.class, () -> peer.read("nope", new int[] {1}, into));
            assertEquals(TransferException.Kind.UNKNOWN_TRANSFER, unknown.kind());
            var expired = assertThrows(TransferException.class, () -> peer.read("gone", new int[] {1}, into));
            assertEquals(TransferException.Kind.EXPIRED, expired.kind());
            peer.read("t1", new int[] {7}, into);
            assertEquals(7, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    /** Slots in separate allocations: one registration and one get per slot. */
    private static final class Scattered implements HostBlockBuffer {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment[] slots;
        private final long slotBytes;

        Scattered(int n, long slotBytes) {
            this.slotBytes = slotBytes;
            this.slots = new MemorySegment[n];
            for (int i = 0; i < n; i++) {
                arena.allocate(64); // a gap, so no two slots are adjacent
                slots[i] = arena.allocate(slotBytes);
            }
        }

        @Override
        public int numSlots() {
            return slots.length;
        }

        @Override
        public long slotBytes() {
            return slotBytes;
        }

        @Override
        public MemorySegment slot(int slot) {
            return slots[slot];
        }

        @Override
        public void close() {
            if (arena.scope().isAlive()) {
                arena.close();
            }
        }
    }

    @Test
    void readsIntoBuffersWhoseSlotsAreNotContiguous() throws Exception {
        long bb = blockBytes();
        var source = new TcpTransportTest.Source(bb) {
            @Override
            public HostBlockBuffer allocateStaging(int slots) {
                return new Scattered(slots, bb);
            }
        };
        try (var listener = ucx.listen("127.0.0.1", 0, compat("prefill", MODEL, 4), "", source);
             var into = new Scattered(3, bb);
             var peer = ucx.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), "", SHORT, SHORT)) {
            peer.read("t1", new int[] {4, 6, 2}, into);
            assertEquals(4, into.slot(0).get(ValueLayout.JAVA_BYTE, bb - 1));
            assertEquals(6, into.slot(1).get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(2, into.slot(2).get(ValueLayout.JAVA_BYTE, bb / 2));
        }
    }

    @Test
    void aTcpOnlyProducerIsReadOverTcpData() throws Exception {
        var source = new TcpTransportTest.Source(blockBytes());
        try (var listener = new TcpTransport().listen("127.0.0.1", 0, compat("prefill", MODEL, 4), "", source);
             var into = new TcpTransportTest.Buffer(2, source.blockBytes);
             var peer = ucx.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), "", SHORT, SHORT)) {
            assertInstanceOf(TcpTransport.TcpPeer.class, peer);
            peer.read("t1", new int[] {3, 5}, into);
            assertEquals(5, into.slot(1).get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void wrongSecretAndIncompatiblePeersAreRefused() throws Exception {
        try (var listener = ucx.listen("127.0.0.1", 0, compat("prefill", MODEL, 4), "right",
                new TcpTransportTest.Source(1))) {
            var e = assertThrows(TransferException.class, () -> ucx.connect("127.0.0.1", listener.port(),
                    compat("decode", MODEL, 4), "wrong", SHORT, SHORT));
            assertEquals(TransferException.Kind.HANDSHAKE, e.kind());
            assertTrue(e.getMessage().contains("shared secret does not match"), e.getMessage());
            var bs = assertThrows(TransferException.class, () -> ucx.connect("127.0.0.1", listener.port(),
                    compat("decode", MODEL, 8), "right", SHORT, SHORT));
            assertTrue(bs.getMessage().contains("block_size differs"), bs.getMessage());
        }
    }

    @Test
    void nobodyListeningIsARefusedConnection() throws Exception {
        int port;
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        var e = assertThrows(TransferException.class, () -> ucx.connect("127.0.0.1", port,
                compat("decode", MODEL, 4), "", SHORT, SHORT));
        assertEquals(TransferException.Kind.REFUSED, e.kind());
    }

    @Test
    void aProducerClosedUnderAnOpenConnectionFailsTheNextReadInBoundedTime() throws Exception {
        var source = new TcpTransportTest.Source(blockBytes());
        var listener = ucx.listen("127.0.0.1", 0, compat("prefill", MODEL, 4), "", source);
        try (var into = new TcpTransportTest.Buffer(2, source.blockBytes);
             var peer = ucx.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), "", SHORT, SHORT)) {
            peer.read("t1", new int[] {1}, into);
            listener.close();
            var e = assertThrows(TransferException.class, () -> peer.read("t1", new int[] {2}, into));
            assertTrue(e.kind() == TransferException.Kind.TRUNCATED || e.kind() == TransferException.Kind.FAILED
                    || e.kind() == TransferException.Kind.TIMEOUT, e.toString());
        }
    }
}
