package io.kvconnect.core.events;

import io.kvconnect.api.common.KvEvent;
import io.kvconnect.core.config.KvEventsConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the engine's KV events outside the process: each step's events become one JSON line
 * ({@link KvEventJson}), written by a daemon thread of its own to a file or a TCP socket.
 *
 * <p><b>Never in the engine's way.</b> {@link #publish} is called by the engine's step thread; it
 * only offers the step's (immutable) event list to a bounded queue and returns. A full queue (the
 * sink is slow) drops the step's events and counts them; a write that fails (the file cannot be
 * written, the consumer is gone, the socket is waiting out its reconnect pause) loses its line and
 * counts it. Nothing here throws into the engine. A consumer notices lost lines by a gap in {@code
 * seq} and should then resynchronise (treat what it knows of the engine as stale).
 *
 * <p>{@link #close} is called once by the engine when it closes: it stops taking events, lets the
 * thread write what is queued for at most {@link #CLOSE_WAIT_MILLIS}, and closes the sink.
 */
public final class KvEventPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KvEventPublisher.class);
    static final long CLOSE_WAIT_MILLIS = 2_000;

    /** One step's events, numbered when queued. */
    private record Batch(long seq, long timeMillis, List<KvEvent> events) {}

    private static final Batch END = new Batch(-1, 0, List.of());

    private final String engineId;
    private final String host;
    private final int tpSize;
    private final LineSink sink;
    private final BlockingQueue<Batch> queue;
    private final Thread thread;
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong droppedQueueFull = new AtomicLong();
    private final AtomicLong droppedWriteFailed = new AtomicLong();
    private long seq;
    private volatile boolean closed;
    /** Interrupts of the publishing thread that close() did not send. */
    private final AtomicLong strayInterrupts = new AtomicLong();

    /**
     * Starts the publishing thread.
     *
     * @param config where to and under which engine id
     * @param tpSize the engine's tensor-parallel size (ranks holding a share of every block)
     */
    public static KvEventPublisher start(KvEventsConfig config, int tpSize) {
        LineSink sink =
                switch (config.sink()) {
                    case KvEventsConfig.File f -> new FileLineSink(f.path());
                    case KvEventsConfig.Tcp t -> new TcpLineSink(t.host(), t.port(), System::nanoTime);
                };
        return new KvEventPublisher(config.engineId(), localHost(), tpSize, config.queueCapacity(), sink);
    }

    KvEventPublisher(String engineId, String host, int tpSize, int capacity, LineSink sink) {
        this.engineId = engineId;
        this.host = host;
        this.tpSize = tpSize;
        this.sink = sink;
        this.queue = new ArrayBlockingQueue<>(capacity + 1); // + 1: room for the end marker
        this.thread =
                Thread.ofPlatform().name("kv-events-" + engineId).daemon(true).unstarted(this::run);
        thread.start();
    }

    /**
     * Queues one step's events (nothing for an empty list). Engine step thread; never blocks, never
     * throws.
     */
    public void publish(List<KvEvent> events) {
        if (events.isEmpty() || closed) {
            return;
        }
        Batch b = new Batch(seq++, System.currentTimeMillis(), events);
        // Keep the last slot for the end marker: a full queue must not keep close() from stopping.
        if (queue.remainingCapacity() <= 1 || !queue.offer(b)) {
            if (droppedQueueFull.getAndIncrement() == 0) {
                LOG.warn("KV events to {} are dropped: the sink is slower than the engine (counted)", sink);
            }
        }
    }

    private void run() {
        boolean failing = false;
        try {
            while (true) {
                Batch b;
                try {
                    b = queue.take();
                } catch (InterruptedException e) {
                    if (closed) {
                        throw e;
                    }
                    // Not from close(): a plugin's thread can reach every thread of the process.
                    // Stopping here would end the engine's events for good; go on taking.
                    if (strayInterrupts.getAndIncrement() == 0) {
                        LOG.warn("The KV event publishing thread was interrupted by someone other than the engine; "
                                + "it goes on (logged once)");
                    }
                    continue;
                }
                if (b == END) {
                    break;
                }
                try {
                    sink.write(KvEventJson.line(engineId, host, tpSize, b.seq(), b.timeMillis(), b.events()));
                    if (queue.isEmpty()) {
                        sink.flush();
                    }
                    published.incrementAndGet();
                    if (failing) {
                        LOG.info("KV events reach {} again", sink);
                        failing = false;
                    }
                } catch (IOException | RuntimeException e) {
                    droppedWriteFailed.incrementAndGet();
                    if (!failing) {
                        LOG.warn(
                                "KV events cannot be written to {}: {}; dropping them until it works",
                                sink,
                                e.toString());
                        failing = true;
                    }
                }
            }
            sink.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            droppedWriteFailed.incrementAndGet();
        } finally {
            sink.close();
        }
    }

    /** Steps whose events were written. */
    public long published() {
        return published.get();
    }

    /** Steps whose events were dropped: the queue was full, or the write failed. */
    public long dropped() {
        return droppedQueueFull.get() + droppedWriteFailed.get();
    }

    /** Steps whose events were dropped because the queue was full. */
    public long droppedQueueFull() {
        return droppedQueueFull.get();
    }

    /** Stops taking events, writes what is queued (bounded wait), closes the sink. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!queue.offer(END)) {
            thread.interrupt();
        }
        try {
            thread.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            thread.interrupt(); // a sink stuck in a write: its lines are lost
            LOG.warn("KV events to {}: the publishing thread did not finish in {} ms", sink, CLOSE_WAIT_MILLIS);
        }
    }

    private static String localHost() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
