package io.kvconnect.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.CopyFailedException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A copy whose pieces the stream thread and the waiting caller copy together. */
@Timeout(60) // a safety net against a hung stream, not a timing assertion
class CopyJobTest {
    /** Counts each piece's copies and the threads that copied; the first piece a thread copies can wait for a second thread. */
    private static final class CountingWork implements CopyJob.Work {
        final AtomicIntegerArray copies;
        final Set<Thread> threads = ConcurrentHashMap.newKeySet();
        final AtomicInteger ends = new AtomicInteger();
        final CountDownLatch twoThreads = new CountDownLatch(2);
        volatile boolean waitForSecondThread;
        volatile @Nullable Throwable endFailure;
        final int failingPiece;

        CountingWork(int pieces, int failingPiece) {
            copies = new AtomicIntegerArray(pieces);
            this.failingPiece = failingPiece;
        }

        @Override
        public void begin() {}

        @Override
        public int pieces() {
            return copies.length();
        }

        @Override
        public void copy(int piece) {
            copies.incrementAndGet(piece);
            if (threads.add(Thread.currentThread())) {
                twoThreads.countDown();
                if (waitForSecondThread) {
                    try {
                        twoThreads.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            if (piece == failingPiece) {
                throw new IllegalStateException("piece " + piece + " failed");
            }
        }

        @Override
        public void end(@Nullable Throwable failure, long copyNanos) {
            ends.incrementAndGet();
            endFailure = failure;
        }
    }

    @Test
    void theStreamAndTheWaiterBothCopyPiecesAndEachPieceOnce() throws Exception {
        CopyStream stream = new CopyStream("job-test");
        try {
            CountingWork work = new CountingWork(64, -1);
            // Whoever copies a first piece waits until a second thread copied one: so the test ends
            // only if the runner and a helper (the waiter, or the stream for a job the waiter took)
            // both copy.
            work.waitForSecondThread = true;
            EngineCopyTicket ticket = new EngineCopyTicket(toHost(), 64, "job-test", 64);
            CopyJob job = new CopyJob(work, ticket, stream, true);
            ticket.shareWith(job);
            stream.submit(job);
            while (!ticket.isDone()) {
                job.helpWhileWaiting();
            }
            ticket.await();

            assertEquals(2, work.threads.size());
            for (int p = 0; p < 64; p++) {
                assertEquals(1, work.copies.get(p), "piece " + p);
            }
            assertEquals(1, work.ends.get());
            assertTrue(ticket.copyNanos().isPresent());
        } finally {
            stream.end();
            stream.join();
        }
    }

    @Test
    void aFailedPieceFailsTheTicketOnceAndTheLaterPiecesAreSkipped() throws Exception {
        CopyStream stream = new CopyStream("job-test");
        try {
            CountingWork work = new CountingWork(8, 0);
            EngineCopyTicket ticket = new EngineCopyTicket(toHost(), 8, "job-test", 8);
            CopyJob job = new CopyJob(work, ticket, stream, false);
            stream.submit(job);

            var e = assertThrows(CopyFailedException.class, ticket::await);

            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertEquals(1, work.ends.get());
            assertInstanceOf(IllegalStateException.class, work.endFailure);
            // Unshared: one thread, which stops copying after the failed first piece.
            assertEquals(1, work.copies.get(0));
            for (int p = 1; p < 8; p++) {
                assertEquals(0, work.copies.get(p), "piece " + p);
            }
        } finally {
            stream.end();
            stream.join();
        }
    }

    @Test
    void anUnsharedJobIsNotTakenByItsWaiter() throws Exception {
        CopyStream stream = new CopyStream("job-test");
        try {
            CountingWork work = new CountingWork(4, -1);
            EngineCopyTicket ticket = new EngineCopyTicket(toHost(), 4, "job-test", 4);
            CopyJob job = new CopyJob(work, ticket, stream, false);
            stream.submit(job);
            job.helpWhileWaiting();
            ticket.await();

            assertEquals(1, work.threads.size());
            assertFalse(work.threads.contains(Thread.currentThread()));
        } finally {
            stream.end();
            stream.join();
        }
    }

    private static CopyFaults.Direction toHost() {
        return CopyFaults.Direction.TO_HOST;
    }
}
