package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;
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
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface CopyTicket {
    /** {@return whether the copy has finished, successfully or not} Never blocks. */
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
     * @param timeout the longest wait
     * @return whether the copy finished in time
     * @throws CopyFailedException if it failed
     * @throws InterruptedException if interrupted while waiting
     */
    boolean await(Duration timeout) throws CopyFailedException, InterruptedException;

    /** {@return whether the copy finished and failed} Never blocks. */
    boolean failed();

    /** {@return the number of bytes this copy moves} */
    long bytes();

    /**
     * {@return how long the copy itself ran, in nanoseconds} Its wait behind earlier copies is not
     * counted; for a connector's time-per-direction stats. Empty while it runs, after a failure, and when
     * the service does not measure it (the default). Never blocks.
     */
    default OptionalLong copyNanos() {
        return OptionalLong.empty();
    }
}
