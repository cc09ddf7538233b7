package io.kvconnect.disk;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides which occurrences of a repeated failure are logged: the 1st, 2nd, 4th, 8th ... of each
 * kind. A failure that lasts (a full disk fails every store of every step) then writes a few dozen
 * lines over a run instead of one per block, while the stats still count every one and the line
 * says how many there were.
 *
 * <p>Thread-safe: a worker's writer and reader threads share one.
 */
final class SparseLog {
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    /** Counts one occurrence of {@code kind}; {@return its number if it is to be logged, else 0} */
    long due(String kind) {
        long n = counts.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        return (n & (n - 1)) == 0 ? n : 0;
    }
}
