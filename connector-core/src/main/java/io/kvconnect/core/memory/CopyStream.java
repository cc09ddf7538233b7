package io.kvconnect.core.memory;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * One daemon thread running tasks in the order they were submitted: the host stand-in for a CUDA
 * stream. The owner guarantees that nothing is submitted after {@link #end()}; tasks must not throw.
 *
 * <p>A task may also run on the submitting thread ({@link #runInlineIfIdle}) when nothing is queued
 * or running: handing a small copy to the stream thread and waking it costs more than the copy.
 * Tasks still run one at a time and in submission order, whichever thread runs them: a thread runs
 * a task only while it holds {@link #running}.
 */
final class CopyStream {
    /** Marks the end of the queue; identity-compared. */
    private static final Runnable END = () -> {};

    private final BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    /** Tasks submitted so far (END not counted). */
    private final AtomicLong submitted = new AtomicLong();
    /** Tasks run so far; written only by the thread holding {@link #running}. */
    private volatile long completed;
    /** Threads in {@link #awaitQueued}; changed only while holding {@link #drained}. */
    private volatile int waiters;

    /** Held by whichever thread runs a task: the stream thread or an inline submitter. */
    private final AtomicBoolean running = new AtomicBoolean();

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
     * Runs {@code task} now on the calling thread if the stream is idle (nothing queued, nothing
     * running), as if it had been submitted and run at once; otherwise does nothing.
     *
     * @return whether the task ran
     */
    boolean runInlineIfIdle(Runnable task) {
        if (completed != submitted.get() || !running.compareAndSet(false, true)) {
            return false;
        }
        try {
            // Checked again while holding the stream: a task submitted since the first check must run first.
            if (completed != submitted.get()) {
                return false;
            }
            submitted.incrementAndGet();
            task.run();
            finished();
        } finally {
            running.set(false);
        }
        return true;
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
            // An inline submitter may hold the stream for the length of one small copy.
            while (!running.compareAndSet(false, true)) {
                Thread.onSpinWait();
            }
            try {
                task.run();
                finished();
            } finally {
                running.set(false);
            }
        }
    }

    /** Counts a task as run and wakes waiters; only while holding {@link #running}. */
    private void finished() {
        completed++; // written only while holding running, so never by two threads at once
        if (waiters > 0) {
            synchronized (drained) {
                drained.notifyAll();
            }
        }
    }
}
