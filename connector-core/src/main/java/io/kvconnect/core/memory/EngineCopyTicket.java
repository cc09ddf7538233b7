package io.kvconnect.core.memory;

import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * The ticket of one copy call. Completed once, by the thread that finished the copy (the copy
 * stream thread, or a caller that ran or helped the copy: see {@link CopyJob}); polled and awaited
 * from any thread. The future gives the happens-before edge: whatever the stream wrote before completing
 * (the copied bytes, the counters) is visible to a thread that saw the ticket done.
 */
final class EngineCopyTicket implements CopyTicket {
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final CopyFaults.Direction direction;
    private final int blocks;
    private final String stream;
    private final long bytes;
    /** Written by the stream thread before completing {@link #done}, read after seeing it done. */
    private long copyNanos;
    /** The copy, if a thread awaiting this ticket may copy some of it itself; set before it is queued. */
    private volatile @Nullable CopyJob job;

    EngineCopyTicket(CopyFaults.Direction direction, int blocks, String stream, long bytes) {
        this.direction = direction;
        this.blocks = blocks;
        this.stream = stream;
        this.bytes = bytes;
    }

    /**
     * Submitting thread, before queueing {@code job}: lets {@link #await()} take or help the copy
     * (see {@link CopyJob#helpWhileWaiting()}) instead of only waiting for it.
     */
    void shareWith(CopyJob job) {
        this.job = job;
    }

    /** The thread that finished the copy: it succeeded. */
    void succeed(long copyNanos) {
        this.copyNanos = copyNanos; // published by the completion below
        done.complete(null);
    }

    /** The thread that finished the copy: it failed with {@code cause}. */
    void fail(Throwable cause) {
        done.completeExceptionally(cause);
    }

    @Override
    public boolean isDone() {
        return done.isDone();
    }

    /**
     * {@inheritDoc} A caller that waits for a copy of host memory copies some of it: the whole copy
     * if the stream thread has not taken it yet and every earlier copy ran, else pieces of it beside
     * the stream thread. The timed {@link #await(Duration)} only waits.
     */
    @Override
    public void await() throws CopyFailedException, InterruptedException {
        CopyJob shared = job;
        if (shared != null && !done.isDone()) {
            shared.helpWhileWaiting();
        }
        spinBriefly();
        try {
            done.get();
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        }
    }

    @Override
    public boolean await(Duration timeout) throws CopyFailedException, InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException e) {
            nanos = Long.MAX_VALUE; // about 292 years: as good as forever
        }
        spinBriefly();
        try {
            done.get(nanos, TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        }
    }

    private void spinBriefly() {
        SpinWait.until(done::isDone);
    }

    @Override
    public boolean failed() {
        return done.isCompletedExceptionally();
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public OptionalLong copyNanos() {
        return done.isDone() && !done.isCompletedExceptionally() ? OptionalLong.of(copyNanos) : OptionalLong.empty();
    }

    @Override
    public String toString() {
        return "CopyTicket[" + description() + ", " + bytes + " B, "
                + (failed() ? "failed" : isDone() ? "done" : "pending") + "]";
    }

    /** A fresh exception per waiter, so each gets its own stack trace; the cause is shared. */
    private CopyFailedException failure(@Nullable Throwable cause) {
        return new CopyFailedException(description() + " failed: " + cause, cause);
    }

    /** Built only when needed: tickets are made on the hot path, messages rarely. */
    private String description() {
        return "copy " + direction + " of " + blocks + " block(s) on stream " + stream;
    }
}
