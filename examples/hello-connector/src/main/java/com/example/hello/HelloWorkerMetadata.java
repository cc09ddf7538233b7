package com.example.hello;

import io.kvconnect.api.common.WorkerMetadata;

/**
 * What one worker tells the scheduler side: how many steps it has seen since it was created.
 * Aggregated over workers by summing, so the scheduler side sees the total of worker-steps.
 *
 * @param stepsSeen steps seen, {@code >= 0}
 */
record HelloWorkerMetadata(long stepsSeen) implements WorkerMetadata {
    HelloWorkerMetadata {
        if (stepsSeen < 0) {
            throw new IllegalArgumentException("steps seen must be >= 0, got " + stepsSeen);
        }
    }

    /** A new value holding the sum; neither operand changes (records are immutable). */
    @Override
    public HelloWorkerMetadata aggregate(WorkerMetadata other) {
        if (!(other instanceof HelloWorkerMetadata o)) {
            throw new IllegalArgumentException("cannot aggregate " + HelloWorkerMetadata.class.getName() + " with "
                    + (other == null ? "null" : other.getClass().getName()));
        }
        return new HelloWorkerMetadata(Math.addExact(stepsSeen, o.stepsSeen));
    }
}
