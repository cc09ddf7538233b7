package io.kvconnect.nixl.transport;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.DoneBatch;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import java.util.List;

/**
 * A connection to one producer worker, after a successful handshake. Used by one thread at a time
 * (one of the consumer worker's read lanes, which uses a producer's connection for one task at a
 * time). After any exception the peer is unusable; the caller
 * closes it and connects again for the next transfer.
 */
public interface Peer extends AutoCloseable {
    /** The handshake fields the producer sent. */
    Compat remote();

    /**
     * Reads the producer's blocks {@code remoteBlocks} of {@code transfer} into slots {@code 0 ..
     * remoteBlocks.length - 1} of {@code into} (canonical block form, slots of the block size
     * agreed at the handshake), renewing the transfer's lease. Nothing outside those slots is
     * written, whatever the producer answers.
     *
     * @throws TransferException if the producer refuses or the transfer breaks off, or the answer
     *     lies outside what the handshake agreed
     */
    void read(TransferRef transfer, int[] remoteBlocks, HostBlockBuffer into) throws TransferException;

    /**
     * Tells the producer that this reader is done with {@code transfer} (read or gave up), so it
     * may free the blocks. Idempotent on the producer.
     *
     * @throws TransferException if the notification could not be delivered or was refused
     */
    void done(TransferRef transfer) throws TransferException;

    /**
     * Tells the producer that this reader is done with every one of {@code transfers}, in as few
     * frames as {@link DoneBatch}'s limits allow (one for a step's worth): the producer takes them
     * in one go and answers once per frame. Idempotent on the producer, per transfer; unknown and
     * repeated ones are logged there and ignored.
     *
     * @throws TransferException if a notice could not be delivered, or the producer refused a
     *     transfer of it (a wrong token: that one is not freed, the others of the frame are)
     */
    void done(List<TransferRef> transfers) throws TransferException;

    /** Closes the connection. Idempotent. */
    @Override
    void close();
}
