package io.kvconnect.nixl;

import io.kvconnect.api.worker.HostBlockBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The consumer worker's reader threads: runs each producer's tasks (its loads, then the step's
 * notice to it) one at a time and in the order they were handed in, on at most {@code lanes}
 * threads, each task with a staging buffer of its own.
 *
 * <p>Why: a producer that completes the handshake and then never answers holds whatever reads
 * from it for a whole {@code io_timeout}. On one thread every load queued behind it, whatever its
 * producer, waited that long. Here such a producer holds one lane; the other producers' tasks run
 * on the others, and a task waits only for the earlier tasks of its own producer, or for a free
 * lane when every lane is busy. After each task a producer with more queued goes to the back of
 * the line, so a producer with many loads does not keep a lane from the others either.
 *
 * <p>Bounded whatever peers do: {@code lanes} threads (started when needed, ended after a while
 * idle) and {@code lanes} staging buffers, allocated up front so that a configuration beyond the
 * engine's host memory budget fails at start. A producer's queue holds only the tasks the engine
 * handed in. Free buffers are taken last-returned-first, so while one producer at a time is read
 * from its reads land in the same buffer (registered once with UCX).
 *
 * <p>Threads: {@link #execute} is called by the engine's worker thread, {@link #shutdown} once at
 * the end; tasks run on the lane threads. Thread-safe.
 */
final class ReadLanes {
    /** A task of one producer; runs on a lane thread with a staging buffer no other task uses meanwhile. */
    @FunctionalInterface
    interface Task {
        void run(HostBlockBuffer staging);
    }

    private final ThreadPoolExecutor threads;
    private final List<HostBlockBuffer> buffers;
    /** Tasks per producer: the head is running or waiting for a lane. Guarded by this. */
    private final Map<String, ArrayDeque<Task>> queued = new HashMap<>();
    /** Buffers no task holds, the last returned on top. Guarded by this. */
    private final ArrayDeque<HostBlockBuffer> free = new ArrayDeque<>();

    /**
     * @param name the threads' name, to which each adds its number
     * @param lanes the most tasks run at once, at least 1
     * @param allocate allocates one staging buffer; called {@code lanes} times, here
     */
    ReadLanes(String name, int lanes, Supplier<HostBlockBuffer> allocate) {
        List<HostBlockBuffer> all = new ArrayList<>(lanes);
        try {
            for (int i = 0; i < lanes; i++) {
                all.add(allocate.get());
            }
        } catch (RuntimeException | Error e) {
            all.forEach(HostBlockBuffer::close);
            throw e;
        }
        buffers = List.copyOf(all);
        free.addAll(buffers);
        var number = new AtomicInteger();
        threads = new ThreadPoolExecutor(
                lanes, lanes, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> Thread.ofPlatform()
                        .daemon()
                        .name(name + "-" + number.incrementAndGet())
                        .unstarted(r));
        // Lanes a deployment with one producer never needs do not hold threads.
        threads.allowCoreThreadTimeOut(true);
    }

    /**
     * Queues {@code task} behind the tasks of {@code producer} handed in before it.
     *
     * @throws RejectedExecutionException after {@link #shutdown}
     */
    void execute(String producer, Task task) {
        synchronized (this) {
            ArrayDeque<Task> q = queued.computeIfAbsent(producer, k -> new ArrayDeque<>());
            q.addLast(task);
            if (q.size() > 1) {
                return; // its producer's running task hands it on
            }
        }
        threads.execute(() -> runHead(producer));
    }

    /** Runs the oldest task of {@code producer}, then puts the producer back in line if it has more. */
    private void runHead(String producer) {
        Task task;
        HostBlockBuffer staging;
        synchronized (this) {
            task = queued.get(producer).peekFirst();
            // Never empty: at most one task per lane thread holds a buffer.
            staging = free.pop();
        }
        try {
            task.run(staging);
        } finally {
            boolean more;
            synchronized (this) {
                free.push(staging);
                ArrayDeque<Task> q = queued.get(producer);
                q.removeFirst();
                more = !q.isEmpty();
                if (!more) {
                    queued.remove(producer);
                }
            }
            if (more) {
                try {
                    threads.execute(() -> runHead(producer));
                } catch (RejectedExecutionException e) {
                    // Shutting down: queued tasks are dropped, as the engine stops waiting for them.
                }
            }
        }
    }

    /**
     * Stops the lanes: queued tasks are dropped, running ones interrupted ({@code unblock} should
     * end their waits, such as by closing their connections); waits up to {@code waitMillis} for
     * them, then frees the staging buffers.
     *
     * @return whether every lane stopped in time
     */
    boolean shutdown(Runnable unblock, long waitMillis) throws InterruptedException {
        threads.shutdownNow();
        unblock.run();
        try {
            return threads.awaitTermination(waitMillis, TimeUnit.MILLISECONDS);
        } finally {
            buffers.forEach(HostBlockBuffer::close);
        }
    }
}
