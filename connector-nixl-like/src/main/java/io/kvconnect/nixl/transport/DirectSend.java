package io.kvconnect.nixl.transport;

import io.kvconnect.api.worker.BlockSend;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.nixl.protocol.Wire;
import java.io.IOException;
import java.nio.channels.SocketChannel;

/**
 * One read's blocks written straight from the producer's KV cache into the connection, with no copy
 * into staging ({@link BlockSource#openSend}). The transport writes it whole ({@link
 * Wire#writeFully(Wire.ChannelWriter, long)}) and then closes it, on the connection's thread. A
 * failure while writing (a block freed meanwhile, the engine closing) is an {@link
 * java.io.IOException}: the frame is cut short, so the connection ends and the reader's read
 * fails.
 */
public interface DirectSend extends Wire.ChannelWriter, AutoCloseable {
    /** Ends the send: the transfer's blocks are no longer held for it. Idempotent. */
    @Override
    void close();

    /**
     * The engine's {@code send} as a direct send: a failed write is an {@link IOException} naming
     * {@code what}; {@code onClose} runs on the first {@link #close()}.
     */
    static DirectSend of(BlockSend send, String what, Runnable onClose) {
        return new DirectSend() {
            private boolean closed;

            @Override
            public long remaining() {
                return send.remaining();
            }

            @Override
            public long writeTo(SocketChannel channel) throws IOException {
                try {
                    return send.writeTo(channel);
                } catch (CopyFailedException e) {
                    throw new IOException("sending " + what + " failed midway: " + e.getMessage(), e);
                }
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    onClose.run();
                }
            }
        };
    }
}
