package io.kvconnect.nixl.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Gathering writes and scattering reads hand the channel at most a window of buffers at a time,
 * from the first one not yet finished: more buffers than one window still travel whole, each into
 * its own buffer, in order.
 */
class WireWindowTest {
    private static final int BUFFERS = 3 * Wire.WINDOW + 7;
    private static final int BYTES = 16 * 1024;

    @Test
    void moreBuffersThanOneWindowArriveWholeAndInOrder() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (SocketChannel writerChannel = SocketChannel.open(server.getLocalAddress());
                    SocketChannel readerChannel = server.accept()) {
                Wire writer = new Wire(writerChannel);
                Wire reader = new Wire(readerChannel);
                ByteBuffer[] out = new ByteBuffer[BUFFERS];
                ByteBuffer[] in = new ByteBuffer[BUFFERS];
                for (int i = 0; i < BUFFERS; i++) {
                    out[i] = ByteBuffer.allocateDirect(BYTES);
                    for (int b = 0; b < BYTES; b++) {
                        out[i].put((byte) (i * 31 + b));
                    }
                    out[i].flip();
                    in[i] = ByteBuffer.allocateDirect(BYTES);
                }
                // About 3.4 MiB from a thread of its own: either side may have to wait for the other.
                CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
                    try {
                        writer.writeFully(out, 10_000);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                reader.readFully(in, 10_000);
                written.get();

                for (int i = 0; i < BUFFERS; i++) {
                    assertEquals(0, out[i].remaining(), "buffer " + i + " written whole");
                    assertEquals(BYTES, in[i].position(), "buffer " + i + " filled");
                    for (int b = 0; b < BYTES; b += 4093) {
                        assertEquals((byte) (i * 31 + b), in[i].get(b), "buffer " + i + " byte " + b);
                    }
                }
            }
        }
    }
}
