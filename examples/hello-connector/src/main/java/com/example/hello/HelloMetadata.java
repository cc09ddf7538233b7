package com.example.hello;

import io.kvconnect.api.common.ConnectorMetadata;

/**
 * What the scheduler side tells the workers for one step. Immutable, as the API requires: the same
 * object reaches every worker thread.
 *
 * @param step the engine step this metadata belongs to
 * @param scheduledRequests how many requests the step computes
 */
record HelloMetadata(long step, int scheduledRequests) implements ConnectorMetadata {
    HelloMetadata {
        if (step < 0 || scheduledRequests < 0) {
            throw new IllegalArgumentException("step and scheduled requests must be >= 0: " + step + ", "
                    + scheduledRequests);
        }
    }
}
