package io.kvconnect.core.exec;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The tensor-parallel all-reduce of the workers' partial digests: every rank contributes its
 * array and every rank gets the element-wise sum, as the ranks of a real model combine partial
 * results inside the forward pass. Each rank calls {@link #sum} exactly once per step.
 */
final class AllReduce {
    private static final long TIMEOUT_SECONDS = 300;

    private final long[][] parts;
    private final CyclicBarrier contributed;
    private final CyclicBarrier consumed;

    AllReduce(int ranks) {
        parts = new long[ranks][];
        contributed = new CyclicBarrier(ranks);
        consumed = new CyclicBarrier(ranks);
    }

    /** Contributes {@code part} for {@code rank} and returns the sum over all ranks. */
    long[] sum(int rank, long[] part) throws InterruptedException {
        parts[rank] = part;
        await(contributed);
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
        await(consumed);
        return total;
    }

    /** Breaks the barriers so that ranks waiting in {@link #sum} stop (shutdown). */
    void breakAll() {
        contributed.reset();
        consumed.reset();
    }

    private static void await(CyclicBarrier barrier) throws InterruptedException {
        try {
            barrier.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("a worker did not reach the all-reduce; the executor is broken", e);
        }
    }
}
