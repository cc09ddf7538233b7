package io.kvconnect.core.memory;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * One copy call of an {@link EngineBlockCopyService} on its way through a {@link CopyStream}, its
 * bytes cut into pieces that more than one thread may copy at once.
 *
 * <p>The runner (the stream thread, an idle-stream caller inline, or a waiter that {@linkplain
 * CopyStream#runIfNext took it}) runs {@link #run()}: {@link Work#begin()}, then it copies pieces
 * until none is left. While it does, the thread waiting for the ticket ({@link #helpWhileWaiting()})
 * and the stream thread, if a waiter took the job ({@link #assist()}), copy pieces too. Each piece is
 * copied exactly once; the thread that finishes the last one ends the job: {@link Work#end}, then
 * the ticket. The runner returns only after the ticket completed, so the stream starts the next
 * copy only after this one is complete and tickets complete in call order.
 *
 * <p>A job that is not {@code shared} (copies with faults, whose stalls must stall the stream and
 * not the caller; device copies, which wait for the device) is copied by its runner alone.
 */
final class CopyJob extends CopyStream.SharedTask {
    /** The steps of one copy; implemented by the copy service. */
    interface Work {
        /**
         * Runner, before any byte moves: the faults, then whether the copy may run. Throws to fail
         * the copy without copying, having undone what it did; {@link #end} is then not called.
         */
        void begin() throws Exception;

        /** How many pieces the copy is cut into; at least 0, fixed. */
        int pieces();

        /** Copies piece {@code piece}, on any thread; the pieces of one copy touch disjoint bytes. */
        void copy(int piece);

        /**
         * Once, on the thread that copied the last piece (the runner if there are none), after
         * {@link #begin} returned and every piece was copied or skipped, before the ticket completes:
         * counters and the like. {@code failure} is the first failure of a piece, {@code null} if
         * every piece was copied; {@code copyNanos} the time from the end of {@code begin} to now.
         */
        void end(@Nullable Throwable failure, long copyNanos);
    }

    private static final int QUEUED = 0;
    /** {@link Work#begin()} passed: pieces may be claimed. */
    private static final int COPYING = 1;
    /** The ticket is complete. */
    private static final int ENDED = 2;

    private final Work work;
    private final EngineCopyTicket ticket;
    private final CopyStream stream;
    private final boolean shared;
    private final int pieces;
    /** The next piece to claim; claims past {@link #pieces} find nothing. */
    private final AtomicInteger nextPiece = new AtomicInteger();
    /** Pieces copied (or skipped after a failure); the thread that makes it {@link #pieces} ends the job. */
    private final AtomicInteger donePieces = new AtomicInteger();

    private final AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
    private volatile int phase = QUEUED;
    /** When {@link Work#begin()} returned; written before {@link #phase} becomes {@link #COPYING}. */
    private long began;

    CopyJob(Work work, EngineCopyTicket ticket, CopyStream stream, boolean shared) {
        this.work = work;
        this.ticket = ticket;
        this.stream = stream;
        this.shared = shared;
        this.pieces = work.pieces();
    }

    /** Whether a waiter may take or help this job. */
    boolean shared() {
        return shared;
    }

    /** The runner: begins the copy, copies pieces, and returns once the ticket is complete. Never throws. */
    @Override
    public void run() {
        try {
            work.begin();
        } catch (Throwable t) {
            // Errors too: a waiter must learn that its copy did not happen rather than wait forever.
            end(t, false);
            return;
        }
        began = System.nanoTime();
        phase = COPYING;
        if (pieces == 0) {
            end(null, true);
            return;
        }
        copyPieces();
        // A helper may still be copying its last piece; it ends the job then. Bounded by one piece.
        while (phase != ENDED) {
            SpinWait.until(() -> phase == ENDED);
        }
    }

    /**
     * The thread waiting for the ticket, before it blocks: takes the job if the stream has not (and
     * every earlier copy ran), or copies pieces beside the runner. Returns when nothing is left to
     * copy here; the ticket may still be pending (a piece in flight elsewhere, earlier copies queued).
     */
    void helpWhileWaiting() {
        if (!shared) {
            return;
        }
        long start = System.nanoTime();
        while (phase == QUEUED) {
            if (stream.runIfNext(this)) {
                return;
            }
            if (!SpinWait.pause(start)) {
                return; // earlier copies still queued: wait on the ticket
            }
        }
        if (phase == COPYING) {
            copyPieces();
        }
    }

    /** The stream thread, for a job a waiter took: copies pieces beside it. */
    @Override
    void assist() {
        // The waiter took it and holds the stream: it begins within microseconds (a shared job has no
        // faults to stall it), and the stream waits for it anyway.
        while (phase == QUEUED) {
            SpinWait.until(() -> phase != QUEUED);
        }
        if (phase == COPYING) {
            copyPieces();
        }
    }

    /** Claims and copies pieces until none is left; ends the job if this thread finished the last. */
    private void copyPieces() {
        for (int piece = nextPiece.getAndIncrement(); piece < pieces; piece = nextPiece.getAndIncrement()) {
            if (failure.get() == null) {
                try {
                    work.copy(piece);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }
            if (donePieces.incrementAndGet() == pieces) {
                end(failure.get(), true);
            }
        }
    }

    /** Once: the work's end, then the ticket, then {@link #ENDED} (which lets the runner return). */
    private void end(@Nullable Throwable cause, boolean begun) {
        long nanos = begun ? System.nanoTime() - began : 0;
        Throwable failed = cause;
        try {
            if (begun) {
                work.end(cause, nanos);
            }
        } catch (Throwable t) {
            failed = failed == null ? t : failed;
        }
        if (failed == null) {
            ticket.succeed(nanos);
        } else {
            ticket.fail(failed);
        }
        phase = ENDED;
    }
}
