package io.kvconnect.nixl.transport;

import io.kvconnect.nixl.protocol.ReadRequest;
import io.kvconnect.nixl.protocol.SharedSecret;
import java.time.Duration;

/**
 * How a reader connects to a producer's worker. Immutable.
 *
 * @param secret the key the producer must prove, and with which the reader proves itself
 * @param connectTimeout bound on connecting and the whole handshake
 * @param ioTimeout bound on each later read or notification round trip
 * @param readSlots the most blocks one read names (the reader's staging slots); a UCX producer
 *     registers staging memory of this many blocks when the reader attaches, and every later read
 *     is bound to it
 * @param verifyReads whether a UCX reader asks the producer for a checksum of each read's staged
 *     blocks and refuses a read whose blocks do not match it (see {@link StagedChecksum})
 */
public record ConnectOptions(
        SharedSecret secret, Duration connectTimeout, Duration ioTimeout, int readSlots, boolean verifyReads) {
    public ConnectOptions {
        if (readSlots < 1 || readSlots > ReadRequest.MAX_BLOCKS) {
            throw new IllegalArgumentException("readSlots " + readSlots);
        }
    }

    /** Options that verify reads. */
    public ConnectOptions(SharedSecret secret, Duration connectTimeout, Duration ioTimeout, int readSlots) {
        this(secret, connectTimeout, ioTimeout, readSlots, true);
    }

    /** {@code secret} with both timeouts {@code timeout} and 64 read slots. */
    public static ConnectOptions of(String secret, Duration timeout) {
        return new ConnectOptions(SharedSecret.of(secret), timeout, timeout, 64);
    }
}
