package io.kvconnect.nixl.transport;

import io.kvconnect.nixl.protocol.SharedSecret;
import java.time.Duration;

/**
 * How a producer's listener treats connections before they authenticated. Immutable.
 *
 * @param secret the key readers must prove, and with which the listener proves itself
 * @param handshakeTimeout bound on the whole handshake of one connection, from its accept: a
 *     peer that has not completed it by then is closed
 * @param maxPendingHandshakes connections whose handshake is in progress at once; a new connection
 *     beyond it closes the oldest of them, and is refused itself if no slot frees in time
 */
public record ListenOptions(SharedSecret secret, Duration handshakeTimeout, int maxPendingHandshakes) {
    /** The configuration's defaults. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

    public static final int DEFAULT_MAX_PENDING_HANDSHAKES = 64;

    public ListenOptions {
        if (maxPendingHandshakes < 1) {
            throw new IllegalArgumentException("maxPendingHandshakes " + maxPendingHandshakes);
        }
    }

    /** {@code secret} with the default bounds. */
    static ListenOptions of(String secret) {
        return new ListenOptions(SharedSecret.of(secret), DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_PENDING_HANDSHAKES);
    }
}
