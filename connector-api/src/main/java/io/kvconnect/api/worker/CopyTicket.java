package io.kvconnect.api.worker;

import io.kvconnect.api.common.Stability;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * An asynchronous block copy started by {@link BlockCopyService}. Copies started on one service
 * in one direction complete in the order they were started.
 *
 * <p>May be polled and awaited from any thread. Until {@link #isDone()} is true, the source blocks
 * must not be reused and the destination blocks must not be read: a connector keeps its GPU blocks
 * alive (delayed free, a {@code GPUBlockPoolView} reference, or a preemption fence) for the
 * ticket's lifetime.
 */
@Stability(Stability.Level.EVOLVING)
public interface CopyTicket {
    /** Whether the copy has finished, successfully or not. Never blocks. */
    boolean isDone();

    /**
     * Waits until the copy has finished.
     *
     * @throws CopyFailedException if it failed
     * @throws InterruptedException if interrupted while waiting
     */
    void await() throws CopyFailedException, InterruptedException;

    /**
     * Waits at most {@code timeout}.
     *
     * @return whether the copy finished in time
     * @throws CopyFailedException if it failed
     * @throws InterruptedException if interrupted while waiting
     */
    boolean await(Duration timeout) throws CopyFailedException, InterruptedException;

    /** Whether the copy finished and failed. Never blocks. */
    boolean failed();

    /** Bytes this copy moves. */
    long bytes();

    /**
     * How long the copy itself ran, in nanoseconds, not counting its wait behind earlier copies;
     * for a connector's time-per-direction stats. Empty while it runs, after a failure, and when
     * the service does not measure it (the default). Never blocks.
     */
    default OptionalLong copyNanos() {
        return OptionalLong.empty();
    }
}
