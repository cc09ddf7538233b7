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
 *
 * <p>A {@link SharedTask} may also be run by a thread that waits for it ({@link #runIfNext}) once
 * every task before it has run, if the stream thread has not taken it yet: a caller that waits for
 * its copy anyway then copies instead of waiting for the stream thread to be scheduled. The stream
 * thread, reaching a task a waiter took, {@linkplain SharedTask#assist() assists} it and waits until
 * it has run before going on, so {@link #join()} still returns only after every task has run.
 *
 * <p>The owner serializes {@link #submit} and {@link #runInlineIfIdle} (the copy service calls both
 * under one lock): the order of those calls is the order the tasks run in.
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

    /**
     * A task that the thread waiting for it may run in the stream thread's place; taken once, by
     * whichever comes first.
     */
    abstract static class SharedTask implements Runnable {
        private final AtomicBoolean taken = new AtomicBoolean();
        /** Its place in the submission order; set by {@link #submit} before the task is queued. */
        private volatile long seq = -1;

        /**
         * Stream thread, for a task a waiter took: help it along while it runs (or return at once).
         * The stream waits for the task to finish after this returns.
         */
        abstract void assist();
    }

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

    /** Tasks queued and not taken by the stream yet (constant time). */
    int queued() {
        return queue.size();
    }

    /** Queues {@code task} after every task submitted before it. */
    void submit(Runnable task) {
        long seq = submitted.getAndIncrement();
        if (task instanceof SharedTask shared) {
            shared.seq = seq; // before queueing: a waiter reads it only after the task is queued
        }
        queue.add(task);
    }

    /**
     * Runs {@code task}, queued by {@link #submit}, now on the calling thread if every task before it
     * has run and the stream thread has not taken it yet; otherwise does nothing. For a thread that
     * waits for the task anyway.
     *
     * @return whether this call ran the task
     */
    boolean runIfNext(SharedTask task) {
        if (task.taken.get() || completed != task.seq || !running.compareAndSet(false, true)) {
            return false;
        }
        try {
            // Checked again while holding the stream: completed changes only under running.
            if (completed != task.seq || !task.taken.compareAndSet(false, true)) {
                return false;
            }
            task.run();
            finished();
        } finally {
            running.set(false);
        }
        return true;
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
            boolean stolen = task instanceof SharedTask shared && !shared.taken.compareAndSet(false, true);
            if (stolen) {
                // A waiter runs it (and counts it): copy beside it, then wait below until it is done.
                ((SharedTask) task).assist();
            }
            // An inline submitter or a waiter may hold the stream for the length of one copy.
            acquire();
            try {
                if (!stolen) {
                    task.run();
                    finished();
                }
            } finally {
                running.set(false);
            }
        }
    }

    /** Stream thread: takes {@link #running}, yielding now and then to a holder that may need this core. */
    private void acquire() {
        while (!running.compareAndSet(false, true)) {
            SpinWait.until(() -> !running.get());
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
