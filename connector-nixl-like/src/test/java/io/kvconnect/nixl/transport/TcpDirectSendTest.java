package io.kvconnect.nixl.transport;

import static io.kvconnect.nixl.transport.TcpTransportTest.T1;
import static io.kvconnect.nixl.transport.TcpTransportTest.client;
import static io.kvconnect.nixl.transport.TcpTransportTest.compat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.Handshake;
import io.kvconnect.nixl.protocol.ReadRequest;
import io.kvconnect.nixl.protocol.SharedSecret;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import io.kvconnect.nixl.protocol.Wire;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Reads a source answers by writing its blocks straight into the connection ({@link
 * BlockSource#openSend}) rather than through staging: the same bytes on the wire, refusals that
 * keep the connection, and a send failing after its header that ends the connection, not the
 * listener.
 */
@Timeout(60) // a safety net against a hung connection, not a timing assertion
class TcpDirectSendTest {
    private static final ModelShape MODEL = new ModelShape("m", 2, 2, 16, DType.FP16);
    private final TcpTransport tcp = new TcpTransport();

    /**
     * {@link TcpTransportTest.Source}'s transfers, sent directly: each block filled with its id;
     * {@code failAfter} bytes into a send, it fails (negative: never).
     */
    private static final class DirectSource extends TcpTransportTest.Source {
        final AtomicInteger opened = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();
        final AtomicInteger staged = new AtomicInteger();
        volatile long failAfter = -1;

        DirectSource(long blockBytes) {
            super(blockBytes);
        }

        @Override
        public void read(TransferRef transfer, int[] blocks, io.kvconnect.api.worker.HostBlockBuffer staging)
                throws TransferException {
            staged.incrementAndGet();
            super.read(transfer, blocks, staging);
        }

        @Override
        public Optional<DirectSend> openSend(TransferRef transfer, int[] blocks) throws TransferException {
            check(transfer, blocks);
            opened.incrementAndGet();
            ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(blocks.length * blockBytes));
            for (int b : blocks) {
                for (long i = 0; i < blockBytes; i++) {
                    bytes.put((byte) b);
                }
            }
            bytes.flip();
            long fail = failAfter;
            return Optional.of(new DirectSend() {
                @Override
                public long remaining() {
                    return bytes.remaining();
                }

                @Override
                public long writeTo(SocketChannel channel) throws IOException {
                    if (fail >= 0 && bytes.position() >= fail) {
                        throw new IOException("a block was freed midway");
                    }
                    if (fail >= 0) {
                        ByteBuffer part =
                                bytes.slice().limit((int) Math.min(bytes.remaining(), fail - bytes.position()));
                        int n = channel.write(part);
                        bytes.position(bytes.position() + n);
                        return n;
                    }
                    return channel.write(bytes);
                }

                @Override
                public void close() {
                    closed.incrementAndGet();
                }
            });
        }
    }

    private static long blockBytes(Compat c) {
        return Long.parseLong(c.fields().get("bytes_per_block"));
    }

    @Test
    void aReadIsSentStraightFromTheSourceWithTheBytesAStagedReadWouldHave() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        var source = new DirectSource(blockBytes(server));
        try (var listener = tcp.listen("127.0.0.1", 0, server, ListenOptions.of(""), source);
                var into = new ArenaBlockBuffer(4, source.blockBytes);
                var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), client(""))) {
            peer.read(T1, new int[] {3, 5, 6}, into);
            assertEquals(3, into.slot(0).get(ValueLayout.JAVA_BYTE, source.blockBytes - 1));
            assertEquals(5, into.slot(1).get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(6, into.slot(2).get(ValueLayout.JAVA_BYTE, source.blockBytes / 2));
            // The connection serves its reads in order: once the second is answered, the first send
            // was closed.
            peer.read(T1, new int[] {1}, into);
            assertEquals(1, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(2, source.opened.get());
            assertTrue(source.closed.get() >= 1, "the first send is closed once written");
            assertEquals(0, source.staged.get(), "nothing went through staging");
        }
    }

    @Test
    void aRefusedSendIsAnErrorFrameAndTheConnectionServesTheNextRead() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        var source = new DirectSource(blockBytes(server));
        try (var listener = tcp.listen("127.0.0.1", 0, server, ListenOptions.of(""), source);
                var into = new ArenaBlockBuffer(4, source.blockBytes);
                var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), client(""))) {
            var expired = assertThrows(
                    TransferException.class, () -> peer.read(new TransferRef("gone", T1.token()), new int[] {1}, into));
            assertEquals(TransferException.Kind.EXPIRED, expired.kind());
            peer.read(T1, new int[] {7}, into);
            assertEquals(7, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void aSendFailingAfterItsHeaderEndsTheConnectionAndTheReadFailsWithoutWrongBytes() throws Exception {
        Compat server = compat("prefill", MODEL, 4);
        var source = new DirectSource(blockBytes(server));
        source.failAfter = source.blockBytes + 7; // a block and a bit, then a failure
        try (var listener = tcp.listen("127.0.0.1", 0, server, ListenOptions.of(""), source)) {
            try (var into = new ArenaBlockBuffer(4, source.blockBytes);
                    var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), client(""))) {
                var e = assertThrows(TransferException.class, () -> peer.read(T1, new int[] {1, 2, 3}, into));
                assertEquals(TransferException.Kind.TRUNCATED, e.kind(), e.getMessage());
            }
            assertEquals(1, source.closed.get(), "the failed send was closed");
            // The listener serves a new connection.
            source.failAfter = -1;
            try (var into = new ArenaBlockBuffer(4, source.blockBytes);
                    var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), client(""))) {
                peer.read(T1, new int[] {2}, into);
                assertEquals(2, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
                assertTrue(source.opened.get() >= 2);
            }
        }
    }

    /** Short limits, so that a test sees them reached: 300 ms for a request's payload and for a send. */
    private static final ServeLimits SHORT = new ServeLimits(300, 300);

    /** A reader on a raw connection to {@code port}, after the handshake (no secret). */
    private static Wire rawReader(int port) throws Exception {
        var wire = new Wire(SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
        Handshake.asReader(
                wire,
                compat("decode", MODEL, 1024),
                SharedSecret.of(""),
                System.nanoTime() + 5_000_000_000L,
                "producer");
        return wire;
    }

    @Test
    @Timeout(30) // the default send limit (60 s) would not be reached in time
    void aSendTheReaderDoesNotTakeEndsAtTheSendLimitAndLetsGoOfItsBlocks() throws Exception {
        // Blocks of 256 KiB: one read of 64 is far more than the sockets buffer between the two.
        Compat server = compat("prefill", MODEL, 1024);
        var source = new DirectSource(blockBytes(server));
        try (var listener = TcpTransport.listen("127.0.0.1", 0, server, ListenOptions.of(""), source, null, SHORT)) {
            try (Wire reader = rawReader(listener.port())) {
                int[] blocks = IntStream.range(0, 64).toArray();
                reader.writeFrame(Frames.READ, ReadRequest.of(T1, blocks).encode(), 5_000);
                // The reader takes nothing; the producer gives up at the send limit and closes the
                // send, which releases its blocks.
                while (source.closed.get() == 0) {
                    Thread.sleep(5);
                }
                assertEquals(1, source.opened.get());
                // What the reader then finds is a frame cut short: never a whole read.
                Wire.Header h = reader.readHeader(5_000);
                assertEquals(Frames.DATA, h.type());
                assertEquals(64 * source.blockBytes, h.length());
                var payload = ByteBuffer.allocate(h.length());
                assertThrows(EOFException.class, () -> reader.readFully(payload, 5_000));
                assertTrue(payload.position() < h.length(), "the whole read arrived");
            }
            assertEquals(1, source.closed.get(), "closed once");
            // The listener serves the next reader.
            try (var into = new ArenaBlockBuffer(4, source.blockBytes);
                    var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 1024), client(""))) {
                peer.read(T1, new int[] {9}, into);
                assertEquals(9, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
            }
        }
    }

    @Test
    @Timeout(8) // well past the 300 ms limit set here, short of the default (10 s)
    void aRequestCutShortEndsItsConnectionAtThePayloadLimitAndServesNothing() throws Exception {
        Compat server = compat("prefill", MODEL, 1024);
        var source = new DirectSource(blockBytes(server));
        try (var listener = TcpTransport.listen("127.0.0.1", 0, server, ListenOptions.of(""), source, null, SHORT)) {
            try (Wire reader = rawReader(listener.port())) {
                byte[] read = ReadRequest.of(T1, new int[] {1, 2}).encode();
                // The header and half the request, then nothing.
                reader.writeFully(Wire.header(Frames.READ, read.length), 5_000);
                reader.writeFully(ByteBuffer.wrap(read, 0, read.length / 2), 5_000);
                // The producer closes the connection at the payload limit, without an answer.
                assertThrows(EOFException.class, () -> reader.readHeader(0));
            }
            assertEquals(0, source.opened.get(), "nothing was sent for a request cut short");
            try (var into = new ArenaBlockBuffer(4, source.blockBytes);
                    var peer = tcp.connect("127.0.0.1", listener.port(), compat("decode", MODEL, 1024), client(""))) {
                peer.read(T1, new int[] {2}, into);
                assertEquals(2, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
            }
        }
    }
}
