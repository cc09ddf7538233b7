package io.kvconnect.core.memory;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * One daemon thread running tasks in the order they were submitted: the host stand-in for a CUDA
 * stream. The owner guarantees that nothing is submitted after {@link #end()}; tasks must not throw.
 */
final class CopyStream {
    /** Marks the end of the queue; identity-compared. */
    private static final Runnable END = () -> {};

    private final BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    /** Tasks submitted so far (END not counted). */
    private final AtomicLong submitted = new AtomicLong();
    /** Tasks run so far; written by the stream thread only. */
    private volatile long completed;
    /** Threads in {@link #awaitQueued}; changed only while holding {@link #drained}. */
    private volatile int waiters;

    private final Object drained = new Object();
    private final BooleanSupplier hasTask = () -> !queue.isEmpty();

    CopyStream(String name) {
        // Daemon: a worker that never closes its service must not keep the JVM alive.
        thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::drain);
        thread.start();
    }

    String name() {
        return thread.getName();
    }

    boolean isCurrentThread() {
        return Thread.currentThread() == thread;
    }

    /** Queues {@code task} after every task submitted before it. */
    void submit(Runnable task) {
        submitted.incrementAndGet();
        queue.add(task);
    }

    /**
     * Waits until every task submitted before the call has run, or {@code maxNanos} passed.
     *
     * @return the nanoseconds waited
     */
    long awaitQueued(long maxNanos) throws InterruptedException {
        long target = submitted.get();
        if (completed >= target || maxNanos <= 0) {
            return 0;
        }
        long t0 = System.nanoTime();
        long deadline = t0 + maxNanos;
        synchronized (drained) {
            // Dekker with the stream thread: it writes completed, then reads waiters; we write
            // waiters, then read completed. One of us sees the other, so no wake-up is lost.
            waiters++;
            try {
                while (completed < target) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    drained.wait(left / 1_000_000, (int) (left % 1_000_000));
                }
            } finally {
                waiters--;
            }
        }
        return System.nanoTime() - t0;
    }

    /** Lets the thread finish once the tasks queued so far have run. */
    void end() {
        queue.add(END);
    }

    /**
     * Waits for the thread to finish, even if interrupted: returning early would let the owner free
     * memory a queued copy still uses. The interrupt status is restored before returning.
     */
    void join() {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void drain() {
        while (true) {
            // Spin briefly before parking: copies often come in quick succession (a worker
            // stores and loads every step), and a wake-up costs more than a small copy.
            Runnable task = queue.poll();
            if (task == null && SpinWait.until(hasTask)) {
                task = queue.poll();
            }
            if (task == null) {
                try {
                    task = queue.take();
                } catch (InterruptedException e) {
                    continue; // only END stops the stream: dropping queued copies would leave tickets pending forever
                }
            }
            if (task == END) {
                return;
            }
            task.run();
            completed++; // the only writer
            if (waiters > 0) {
                synchronized (drained) {
                    drained.notifyAll();
                }
            }
        }
    }
}
