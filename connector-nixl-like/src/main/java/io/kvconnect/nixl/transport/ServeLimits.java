package io.kvconnect.nixl.transport;

/**
 * How long a producer's connection waits on a reader that authenticated: fixed in service ({@link
 * #DEFAULT}); tests of the transport shorten them to see what happens when one is reached.
 *
 * @param payloadMillis bound on reading the rest of a request whose header arrived: a reader that
 *     stops in the middle of a request has its connection closed
 * @param sendMillis bound on sending one answer to a reader that stopped reading: the connection
 *     is then closed, and a read sent straight from the KV cache lets go of its blocks
 */
record ServeLimits(long payloadMillis, long sendMillis) {
    /** The limits every listener serves with. */
    static final ServeLimits DEFAULT = new ServeLimits(10_000, 60_000);

    ServeLimits {
        if (payloadMillis <= 0 || sendMillis <= 0) {
            throw new IllegalArgumentException("limits must be positive: " + payloadMillis + ", " + sendMillis);
        }
    }
}
