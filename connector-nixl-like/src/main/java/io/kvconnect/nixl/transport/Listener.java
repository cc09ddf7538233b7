package io.kvconnect.nixl.transport;

import java.util.Map;

/**
 * A bound transport server ({@link Transport#listen}); closing it closes every connection it
 * accepted. Thread-safe.
 */
public interface Listener extends AutoCloseable {
    /** The bound port. */
    int port();

    /**
     * Counts of handshake outcomes and refused connections since the last call ({@code
     * handshakes_ok}, {@code handshakes_refused_secret}, ...), merged into the worker's stats by the
     * engine's worker thread.
     */
    default Map<String, Long> takeCounters() {
        return Map.of();
    }

    /** Stops accepting and closes every connection. Idempotent. */
    @Override
    void close();
}
