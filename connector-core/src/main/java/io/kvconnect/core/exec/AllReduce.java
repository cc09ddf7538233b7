package io.kvconnect.core.exec;

import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The tensor-parallel all-reduce of the workers' partial digests: every rank contributes its
 * array and every rank gets the element-wise sum, as the ranks of a real model combine partial
 * results inside the forward pass. Each rank calls {@link #sum} exactly once per step, on its
 * worker thread.
 *
 * <p>A {@link Phaser}, not a {@code CyclicBarrier}: a barrier breaks for every rank when one
 * waiting rank is interrupted, while a rank interrupted in {@link Phaser#awaitAdvanceInterruptibly}
 * has arrived all the same and may simply wait again. So a stray interrupt of one worker (see
 * {@link WorkerInterrupts}) costs the others nothing, and only the engine's own stop ends a wait.
 */
final class AllReduce {
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(300);

    private final long[][] parts;
    /** Two phases a step: every part is written; every rank has read all parts. */
    private final Phaser phaser;

    /**
     * The last phase every rank arrived in, set before the ranks waiting in it are released. A
     * rank that wakes to a terminated phaser reads it to tell "my phase completed, then another
     * rank failed and broke the all-reduce" (it got its sum) from "broken before my phase
     * completed": the phaser answers both with the same negative phase.
     */
    private volatile int lastCompleted = -1;

    AllReduce(int ranks) {
        parts = new long[ranks][];
        phaser = new Phaser(ranks) {
            @Override
            protected boolean onAdvance(int phase, int registeredParties) {
                lastCompleted = phase;
                return false; // ranks never leave: only breakAll ends it
            }
        };
    }

    /**
     * Contributes {@code part} for {@code rank} and returns the sum over all ranks.
     *
     * @param interrupts the calling worker's: its waits resume after a stray interrupt
     * @throws InterruptedException if the worker is closing
     * @throws IllegalStateException if the all-reduce was broken or a rank did not come in time
     */
    long[] sum(int rank, long[] part, WorkerInterrupts interrupts) throws InterruptedException {
        parts[rank] = part;
        await(interrupts);
        long[] total = new long[part.length];
        for (long[] p : parts) {
            if (p.length != total.length) {
                throw new IllegalStateException(
                        "ranks disagree on the step's work: " + p.length + " vs " + total.length);
            }
            for (int i = 0; i < total.length; i++) {
                total[i] += p[i];
            }
        }
        // Nobody may overwrite its part for the next step before every rank has read this one.
        await(interrupts);
        return total;
    }

    /** Ends the all-reduce for good: ranks waiting in {@link #sum}, and later ones, fail (an engine bug). */
    void breakAll() {
        phaser.forceTermination();
    }

    private void await(WorkerInterrupts interrupts) throws InterruptedException {
        // Arrives once, before waiting: a wait that a stray interrupt cut short is resumed, never
        // repeated with a second arrival.
        int phase = phaser.arrive();
        int reached = phase < 0
                ? phase
                : interrupts.await(TIMEOUT_NANOS, left -> {
                    try {
                        return phaser.awaitAdvanceInterruptibly(phase, left, TimeUnit.NANOSECONDS);
                    } catch (TimeoutException e) {
                        throw new IllegalStateException(
                                "a worker did not reach the all-reduce; the executor is broken", e);
                    }
                });
        // A rank that failed right after this phase completed may have broken the all-reduce
        // before this one woke; this rank's phase completed all the same.
        if (reached < 0 && lastCompleted != phase) {
            throw new IllegalStateException("the all-reduce was broken by a failed worker; the executor is broken");
        }
    }
}
