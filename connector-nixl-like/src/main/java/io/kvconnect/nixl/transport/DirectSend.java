package io.kvconnect.nixl.transport;

import io.kvconnect.nixl.protocol.Wire;

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
}
