package io.kvconnect.core.memory;

import java.util.function.BooleanSupplier;

/**
 * A bounded busy wait before parking. Parking and being woken costs tens of microseconds, more
 * than copying a small batch of blocks, so the copy stream and waiters on tickets spin briefly
 * first. After 20 microseconds the spin yields the core on every turn: on a machine with more
 * runnable threads than cores the thread it waits for may need this very core, and a pure spin
 * would hold it off for the whole spin time.
 */
final class SpinWait {
    /** How long to spin at most before parking. */
    static final long SPIN_NANOS = 200_000;
    /** How long to spin without yielding: a hand-off takes 1-2 µs, a 16 KiB copy a few. */
    private static final long HOT_NANOS = 20_000;

    private SpinWait() {}

    /**
     * Spins until {@code done} is true or {@link #SPIN_NANOS} passed.
     *
     * @return whether {@code done} became true
     */
    static boolean until(BooleanSupplier done) {
        long start = System.nanoTime();
        while (!done.getAsBoolean()) {
            if (!pause(start)) {
                return false;
            }
        }
        return true;
    }

    /**
     * One turn of a spin that began at {@code startNanos} ({@link System#nanoTime()}): a spin hint
     * in the first microseconds, then a yield.
     *
     * @return false, without pausing, once {@link #SPIN_NANOS} have passed since {@code startNanos}
     */
    static boolean pause(long startNanos) {
        long spent = System.nanoTime() - startNanos;
        if (spent >= SPIN_NANOS) {
            return false;
        }
        if (spent < HOT_NANOS) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
        return true;
    }
}
