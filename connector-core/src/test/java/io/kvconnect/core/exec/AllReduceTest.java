package io.kvconnect.core.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The all-reduce survives a stray interrupt of a waiting rank (the others still get the sum, and
 * later steps still work), and ends the wait of a rank whose worker is closing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AllReduceTest {
    /** Generous: only a wait that never ends gets near it. */
    private static final Duration BOUND = Duration.ofSeconds(30);

    /** Rank 0's part of a step, run on a thread of its own. */
    private record RankZero(Thread thread, Future<long[]> result) {
        static RankZero start(AllReduce allReduce, WorkerInterrupts interrupts, long[] part) {
            CompletableFuture<long[]> result = new CompletableFuture<>();
            Thread t = Thread.ofPlatform().daemon().name("rank-0").start(() -> {
                try {
                    result.complete(allReduce.sum(0, part, interrupts));
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            });
            return new RankZero(t, result);
        }

        /** Its thread, once it waits for rank 1 (bounded). */
        Thread waiting() {
            long deadline = System.nanoTime() + BOUND.toNanos();
            while (thread.getState() != Thread.State.WAITING && thread.getState() != Thread.State.TIMED_WAITING) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("rank 0 never waited");
                }
                Thread.onSpinWait();
            }
            return thread;
        }

        long[] get() throws Exception {
            return result.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @Test
    void aRankInterruptedWhileItWaitsStillGetsTheSumAndTheNextStepWorks() throws Exception {
        AllReduce allReduce = new AllReduce(2);
        WorkerInterrupts zero = new WorkerInterrupts(0);
        WorkerInterrupts one = new WorkerInterrupts(1);
        for (int step = 0; step < 3; step++) {
            RankZero first = RankZero.start(allReduce, zero, new long[] {1, 2});
            for (int i = 0; i < 3; i++) {
                first.waiting().interrupt(); // a connector's thread, not the engine
            }
            // A barrier that broke on the interrupt would fail this rank as well.
            assertArrayEquals(new long[] {11, 22}, allReduce.sum(1, new long[] {10, 20}, one));
            assertArrayEquals(new long[] {11, 22}, first.get());
        }
    }

    @Test
    void theWaitOfAClosingWorkerEndsAtItsInterrupt() throws Exception {
        AllReduce allReduce = new AllReduce(2);
        WorkerInterrupts zero = new WorkerInterrupts(0);
        RankZero first = RankZero.start(allReduce, zero, new long[] {1});
        Thread t = first.waiting();

        zero.close();
        t.interrupt();

        ExecutionException e = assertThrows(ExecutionException.class, () -> first.get());
        assertInstanceOf(InterruptedException.class, e.getCause());
    }

    @Test
    void breakingTheAllReduceReleasesAWaitingRank() throws Exception {
        AllReduce allReduce = new AllReduce(2);
        RankZero first = RankZero.start(allReduce, new WorkerInterrupts(0), new long[] {1});
        first.waiting();

        allReduce.breakAll();

        ExecutionException e = assertThrows(ExecutionException.class, () -> first.get());
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("broken"), e.getCause().getMessage());
    }

    @Test
    void aRankWhoseStepCompletedGetsItsSumThoughAnotherBreaksTheAllReduceRightAfter() throws Exception {
        // The race needs the breaking rank to run on before the other one woke: many rounds.
        for (int round = 0; round < 2_000; round++) {
            AllReduce allReduce = new AllReduce(2);
            RankZero zero = RankZero.start(allReduce, new WorkerInterrupts(0), new long[] {1});
            assertArrayEquals(new long[] {3}, allReduce.sum(1, new long[] {2}, new WorkerInterrupts(1)));
            allReduce.breakAll(); // rank 1 fails at once after the all-reduce, as a hook may
            assertArrayEquals(
                    new long[] {3},
                    zero.result().get(BOUND.toMillis(), TimeUnit.MILLISECONDS),
                    "round " + round + ": rank 0's step completed before the all-reduce broke");
        }
    }
}
