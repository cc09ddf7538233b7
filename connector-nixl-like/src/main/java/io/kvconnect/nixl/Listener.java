package io.kvconnect.nixl;

/**
 * A bound transport server ({@link Transport#listen}); closing it closes every connection it
 * accepted. Thread-safe. (Top level, not nested in {@link Transport}: a member of an interface is
 * public, and nothing of this plugin but its provider is.)
 */
interface Listener extends AutoCloseable {
    /** The bound port. */
    int port();

    /** Stops accepting and closes every connection. Idempotent. */
    @Override
    void close();
}
