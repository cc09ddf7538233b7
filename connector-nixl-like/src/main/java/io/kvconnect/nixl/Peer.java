package io.kvconnect.nixl;

import io.kvconnect.api.worker.HostBlockBuffer;

/**
 * A connection to one producer worker, after a successful handshake. Used by one thread at a time
 * (the consumer worker's reader thread). After any exception the peer is unusable; the caller
 * closes it and connects again for the next transfer.
 */
interface Peer extends AutoCloseable {
    /** The handshake fields the producer sent. */
    Compat remote();

    /**
     * Reads the producer's blocks {@code remoteBlocks} of transfer {@code transferId} into slots
     * {@code 0 .. remoteBlocks.length - 1} of {@code into} (canonical block form), renewing the
     * transfer's lease.
     *
     * @throws TransferException if the producer refuses or the transfer breaks off
     */
    void read(String transferId, int[] remoteBlocks, HostBlockBuffer into) throws TransferException;

    /**
     * Tells the producer that this reader is done with {@code transferId} (read or gave up), so it
     * may free the blocks. Idempotent on the producer.
     *
     * @throws TransferException if the notification could not be delivered
     */
    void done(String transferId) throws TransferException;

    /** Closes the connection. Idempotent. */
    @Override
    void close();
}
