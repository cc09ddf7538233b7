package io.kvconnect.nixl.transport;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Named event counts a listener keeps on its connection threads and the worker takes into its stats
 * on the engine's thread. Thread-safe.
 */
public final class EventCounters {
    private final Map<String, AtomicLong> sinceTaken = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> totals = new ConcurrentHashMap<>();

    /** Counts one {@code name} event; returns how many there were in all, this one included. */
    long count(String name) {
        sinceTaken.computeIfAbsent(name, k -> new AtomicLong()).incrementAndGet();
        return totals.computeIfAbsent(name, k -> new AtomicLong()).incrementAndGet();
    }

    /** The counts since the last call, by name (none zero). */
    Map<String, Long> take() {
        Map<String, Long> out = new TreeMap<>();
        sinceTaken.forEach((k, v) -> {
            long n = v.getAndSet(0);
            if (n > 0) {
                out.put(k, n);
            }
        });
        return out;
    }

    /**
     * Whether the {@code n}th event of a kind is worth a log line: the first, second, fourth, eighth
     * and so on, so a flood of refusals costs a handful of lines, not one per connection.
     */
    public static boolean worthLogging(long n) {
        return Long.bitCount(n) == 1;
    }
}
