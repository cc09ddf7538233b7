package io.kvconnect.core.engine;

import java.util.concurrent.locks.LockSupport;

/**
 * How the engine thread waits after a step that had nothing to do.
 *
 * <p>An engine with no request to compute still steps while its connector has pending work
 * (stores a worker will report finished, a lease held for a peer): only steps let the workers
 * report and the scheduler free what the connector is done with. Such work may take as long as
 * {@code connector_timeout}, minutes, so stepping back to back would burn a core for nothing. After
 * an idle step without requests the engine waits, each time twice as long as the last, from {@link
 * #FIRST_NANOS} up to {@link #CAP_NANOS}: a transfer that finishes soon is still seen within
 * microseconds, a long wait costs about a thousand steps a second. A step that does work never
 * waits, and starts the back-off over, as does a request's arrival.
 *
 * <p>An idle step while a request waits (for an asynchronous load) waits a fixed {@link
 * #WAITING_REQUEST_NANOS} instead, as it always has: no wait is charged to the modelled clock, but
 * each step's own wall time is, so a longer wait there would shorten the modelled time a load takes
 * and change the latencies runs report.
 *
 * <p><b>Thread.</b> Called by {@link Engine} on the thread that steps it; not thread-safe.
 */
final class IdleBackoff {
    /** The first wait after a step with work. */
    static final long FIRST_NANOS = 50_000;

    /** The longest wait: how late, at most, an idle engine sees its connector's work finish. */
    static final long CAP_NANOS = 1_000_000;

    /** The wait after an idle step while a request waits. */
    static final long WAITING_REQUEST_NANOS = 200_000;

    /** Waits on the engine thread; tests record the waits instead of waiting. */
    @FunctionalInterface
    interface Parker {
        /** Waits about {@code nanos} nanoseconds (less if the thread is unparked or interrupted). */
        void park(long nanos);
    }

    private final Parker parker;
    private long next = FIRST_NANOS;

    IdleBackoff(Parker parker) {
        this.parker = parker;
    }

    /** A back-off that parks the calling thread. */
    static IdleBackoff parking() {
        return new IdleBackoff(LockSupport::parkNanos);
    }

    /** After a step that did work or changed a request, or when a request arrives: no wait, and the next idle wait is the first. */
    void reset() {
        next = FIRST_NANOS;
    }

    /** After an idle step while a request waits: the fixed wait; the back-off starts over after it. */
    void requestWaits() {
        next = FIRST_NANOS;
        parker.park(WAITING_REQUEST_NANOS);
    }

    /** After an idle step without requests: waits, twice as long as the last time, up to the cap. */
    void idle() {
        parker.park(next);
        next = Math.min(CAP_NANOS, next * 2);
    }
}
