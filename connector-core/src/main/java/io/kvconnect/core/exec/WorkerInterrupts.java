package io.kvconnect.core.exec;

import io.kvconnect.core.logging.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the engine's own interrupts of one worker thread from stray ones, for the engine code that
 * runs on it between the connector's hooks.
 *
 * <p>A worker thread belongs to the engine: no user code runs on it, only the engine and the
 * connector's worker-side hooks. The engine interrupts it for two reasons only: the hook timer
 * interrupts a hook past its timeout (and the hook's site clears that interrupt when the hook
 * returns), and {@link Worker#close} interrupts it to stop it, after {@link #close()} set this
 * worker's closing flag. Any other interrupt is stray: a connector's own thread interrupted a
 * worker thread it saw in a hook. A stray interrupt must not end the step: the rank would leave
 * the all-reduce, the other ranks would wait for it in vain, and the engine would stop. So the
 * engine's waits on a worker thread ({@link #await}) resume after one, and it is logged
 * (rate-limited); they end with {@link InterruptedException} only once the worker is closing. The
 * flag, not the interrupt, says so: the interrupt alone is the same whoever sent it.
 *
 * <p><b>Thread.</b> The worker thread calls {@link #await} and {@link #clearStray()}; {@link
 * #close()} is called by the thread that closes the worker (the engine thread).
 */
final class WorkerInterrupts {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerInterrupts.class);

    /** A wait that gives up after {@code nanosLeft} (at once if it is not positive). */
    @FunctionalInterface
    interface TimedWait<T> {
        T await(long nanosLeft) throws InterruptedException;
    }

    private final int rank;
    /** Set once, before the engine interrupts the thread to stop it. */
    private volatile boolean closing;

    WorkerInterrupts(int rank) {
        this.rank = rank;
    }

    /**
     * The worker is being closed: from now on an interrupt of its thread is the engine's, and its
     * waits end. Called before the thread is interrupted, so that a wait the interrupt ends sees
     * the flag (an interrupt happens before the interrupted thread detects it). Any thread.
     */
    void close() {
        closing = true;
    }

    /**
     * Runs {@code wait} until it returns: again after each stray interrupt, with what is left of
     * {@code maxNanos}, so a stray interrupt neither shortens nor lengthens the wait.
     *
     * @param maxNanos how long the wait may take in all; not so large that now plus it overflows
     * @return what the last call of {@code wait} returned
     * @throws InterruptedException once the worker is closing. Also checked before each call: the
     *     engine's interrupt may have reached the thread during a hook, whose site clears it
     */
    <T> T await(long maxNanos, TimedWait<T> wait) throws InterruptedException {
        long deadline = System.nanoTime() + maxNanos;
        while (true) {
            if (closing) {
                throw new InterruptedException("worker " + rank + " is closing");
            }
            try {
                return wait.await(deadline - System.nanoTime());
            } catch (InterruptedException e) {
                if (closing) {
                    throw e;
                }
                stray();
            }
        }
    }

    /**
     * Before a hook: clears a stray interrupt that reached the thread since the last hook, so that
     * the hook does not take it for a request to stop (a hook that waits for its copies would give
     * them up and fail a load). The engine's own interrupt is kept for the hook to see.
     */
    void clearStray() {
        if (Thread.interrupted()) {
            if (closing) {
                Thread.currentThread().interrupt();
            } else {
                stray();
            }
        }
    }

    private void stray() {
        RateLimitedLog.forLogger(LOG)
                .warn(
                        "stray-interrupt",
                        "Worker {}: its thread was interrupted outside a hook, by a thread that is not the engine's "
                                + "(a connector's own thread?); the engine ignores the interrupt and goes on",
                        rank);
    }
}
