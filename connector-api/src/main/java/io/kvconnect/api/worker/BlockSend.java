package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;
import java.io.IOException;
import java.nio.channels.SocketChannel;

/**
 * KV-cache blocks on their way into a socket, written straight out of the KV cache by the engine
 * with no copy into a host buffer of the connector's ({@link BlockCopyService#openSend}). The bytes
 * are those {@link BlockCopyService#copyToHost} would put into consecutive slots: block by block in
 * the order the send named them, each block's bytes in canonical order ({@link
 * KvLayout#bytesPerBlock()} per block).
 *
 * <p>One thread at a time calls {@link #writeTo}, as often as it takes, usually between waits for
 * the socket to take more (a selector); a send needs no closing and holds nothing but its
 * position. The blocks must stay in use until the last write returned, as for a copy.
 *
 * @since 0.2
 */
@Stability(value = Stability.Level.EXPERIMENTAL, since = "0.2")
public interface BlockSend {
    /** {@return the bytes of the whole send} */
    long bytes();

    /** {@return the bytes not yet written} */
    long remaining();

    /**
     * Writes as many of the remaining bytes as {@code channel} takes now, without waiting. Each call
     * checks the blocks again: a block freed since {@link BlockCopyService#openSend} (it may belong
     * to another request by then) fails the call before it writes anything.
     *
     * @param channel a connected socket channel of the JDK's own implementation ({@link
     *     SocketChannel#open()} or {@code ServerSocketChannel.accept()}), in non-blocking mode: the
     *     engine hands it views of its KV cache, which only the JDK's channel is known not to keep,
     *     and a blocking write could hold the worker's next step for as long as the peer does not
     *     read
     * @return the bytes this call wrote, 0 if the channel took none or none remain
     * @throws IOException as the channel's write
     * @throws CopyFailedException if a block was freed since the send was opened, or the service
     *     closed; nothing was written by this call, and the send cannot go on
     * @throws IllegalArgumentException if the channel is blocking or not the JDK's own
     */
    long writeTo(SocketChannel channel) throws IOException, CopyFailedException;
}
