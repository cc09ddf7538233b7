package io.kvconnect.core.sched;

/** What the engine does when a connector hook throws. */
public enum ConnectorErrorPolicy {
    /** The requests the hook was about fail with the exception as their reason; the connector stays. */
    FAIL_REQUESTS,
    /**
     * As {@link #FAIL_REQUESTS}, then the connector is shut down and detached: the engine serves on
     * without it, recomputing what it would have loaded.
     */
    DISABLE
}
