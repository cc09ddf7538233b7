package io.kvconnect.nixl.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The TCP backend sends a read's data in pieces, each written while the next is copied: the data
 * arrives whole and in order however many pieces and buffers it takes, and a copy that fails once
 * the answer began cuts the transfer short instead of passing for data.
 */
class TcpReadPiecesTest {
    private static final TcpTransport TCP = new TcpTransport();
    private static final ModelShape MODEL = new ModelShape("m", 2, 2, 16, DType.FP16);
    /** A generous handshake bound: the first connection of a test JVM on a busy machine is slow. */
    private static final ConnectOptions CLIENT = ConnectOptions.of("", Duration.ofSeconds(10));

    /** Blocks of 512 KiB: a read of 16 of them is copied and sent in 8 pieces of 1 MiB. */
    private static final ModelShape BIG = new ModelShape("big", 1, 8, 128, DType.FP16);

    @Test
    void aReadOfManyPiecesArrivesWhole() throws Exception {
        Compat server = TcpTransportTest.compat("prefill", BIG, 128);
        var source = new TcpTransportTest.Source(Long.parseLong(server.fields().get("bytes_per_block")));
        assertEquals(512 * 1024, source.blockBytes);
        int[] blocks = {9, 10, 11, 12, 13, 14, 15, 16, 3, 2, 1, 0, 40, 41, 63, 62};
        try (var listener = TCP.listen("127.0.0.1", 0, server, ListenOptions.of(""), source);
                var into = new ArenaBlockBuffer(blocks.length, source.blockBytes);
                var peer = TCP.connect(
                        "127.0.0.1", listener.port(), TcpTransportTest.compat("decode", BIG, 128), CLIENT)) {
            for (int round = 0; round < 2; round++) {
                peer.read(TcpTransportTest.T1, blocks, into);
                for (int i = 0; i < blocks.length; i++) {
                    assertEquals(blocks[i], into.slot(i).get(ValueLayout.JAVA_BYTE, 0));
                    assertEquals(blocks[i], into.slot(i).get(ValueLayout.JAVA_BYTE, source.blockBytes - 1));
                }
                into.slot(0).fill((byte) -1);
            }
        }
    }

    @Test
    void aReadOfMoreBuffersThanOneWriteTakesArrivesWhole() throws Exception {
        Compat server = TcpTransportTest.compat("prefill", MODEL, 4);
        var source = new TcpTransportTest.Source(Long.parseLong(server.fields().get("bytes_per_block")));
        int[] blocks = new int[64];
        java.util.Arrays.setAll(blocks, i -> 63 - i);
        try (var listener = TCP.listen("127.0.0.1", 0, server, ListenOptions.of(""), source);
                var into = new ArenaBlockBuffer(blocks.length, source.blockBytes);
                var peer = TCP.connect(
                        "127.0.0.1", listener.port(), TcpTransportTest.compat("decode", MODEL, 4), CLIENT)) {
            peer.read(TcpTransportTest.T1, blocks, into);
            for (int i = 0; i < blocks.length; i++) {
                assertEquals(blocks[i], into.slot(i).get(ValueLayout.JAVA_BYTE, source.blockBytes - 1));
            }
        }
    }

    @Test
    void aCopyThatFailsAfterTheFirstPieceEndsTheConnectionAndIsNeverTakenForData() throws Exception {
        Compat server = TcpTransportTest.compat("prefill", BIG, 128);
        var source = new TcpTransportTest.Source(Long.parseLong(server.fields().get("bytes_per_block"))) {
            @Override
            public void read(TransferRef transfer, int[] blocks, HostBlockBuffer staging) throws TransferException {
                for (int b : blocks) {
                    if (b == 13) {
                        throw new TransferException(TransferException.Kind.FAILED, "copy of block 13 failed");
                    }
                }
                super.read(transfer, blocks, staging);
            }
        };
        try (var listener = TCP.listen("127.0.0.1", 0, server, ListenOptions.of(""), source);
                var into = new ArenaBlockBuffer(8, source.blockBytes)) {
            // The first piece (blocks 13 and 14) fails: an answer, and the connection stays.
            try (var peer =
                    TCP.connect("127.0.0.1", listener.port(), TcpTransportTest.compat("decode", BIG, 128), CLIENT)) {
                var first = assertThrows(
                        TransferException.class, () -> peer.read(TcpTransportTest.T1, new int[] {13, 14}, into));
                assertEquals(TransferException.Kind.FAILED, first.kind());
                assertTrue(first.getMessage().contains("copy of block 13 failed"), first.getMessage());
                peer.read(TcpTransportTest.T1, new int[] {5}, into);
                assertEquals(5, into.slot(0).get(ValueLayout.JAVA_BYTE, 0));
            }
            // A later piece fails once the header is out: the data is cut short.
            try (var peer =
                    TCP.connect("127.0.0.1", listener.port(), TcpTransportTest.compat("decode", BIG, 128), CLIENT)) {
                var later = assertThrows(
                        TransferException.class,
                        () -> peer.read(TcpTransportTest.T1, new int[] {9, 10, 11, 12, 13, 14}, into));
                assertEquals(TransferException.Kind.TRUNCATED, later.kind(), later.getMessage());
            }
        }
    }
}
