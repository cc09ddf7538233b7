package io.kvconnect.core.logging;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.helpers.FormattingTuple;
import org.slf4j.helpers.MessageFormatter;

/**
 * Writes at most {@code linesPerInterval} lines of one kind per interval, and then, for the lines of
 * that kind it held back, one summary line ({@code "... and K more like this suppressed in the last
 * 60 s"}).
 *
 * <p>Use it wherever a plugin or a peer decides how often the engine logs: once per request id a
 * connector reports, once per rank per step. A connector whose {@code reportStep} named 100,000
 * unknown ids made the engine write 100,000 warnings in one step; through a limiter it writes ten
 * and, once the interval is over, one line with the count of the others. Only lines are dropped:
 * callers keep counting every event in their own counters (the engine's stats), so a count is never
 * lost.
 *
 * <p>A <em>kind</em> is a constant string naming the message (such as {@code
 * "finished-unknown"}), never data a plugin supplied: the limiter keeps one small window per kind
 * for its lifetime. The summary of an interval is written when the next line of its kind comes
 * after the interval, or by {@link #flushDue()}, which an owner that runs every step calls, or by
 * {@link #flushAll()}. The last line written before the limit is reached says that more will be
 * counted, so a reader never takes a cut-off log for the whole story.
 *
 * <p><b>Thread.</b> Thread-safe; the engines of one process share the limiter of a logger
 * ({@link #forLogger}), as they share the log it protects. Formatting happens only for lines that
 * are written, so a suppressed line costs a map lookup.
 */
public final class RateLimitedLog {
    /** Lines of one kind written per interval by {@link #forLogger}'s limiters: enough to see a pattern. */
    public static final int DEFAULT_LINES_PER_INTERVAL = 10;
    /** The interval of {@link #forLogger}'s limiters: at most one summary line per kind per minute. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(60);

    private static final Map<String, RateLimitedLog> BY_LOGGER = new ConcurrentHashMap<>();

    /** Where the limiter writes a line; {@code cause} is {@code null} for a line without an exception. */
    @FunctionalInterface
    public interface Sink {
        /** Writes one line at {@code level}. */
        void write(Level level, String line, @Nullable Throwable cause);
    }

    private final Sink sink;
    private final int linesPerInterval;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Map<String, Window> windows = new LinkedHashMap<>(); // guarded by this
    private long suppressedTotal; // guarded by this

    /** The current interval of one kind. */
    private static final class Window {
        final String kind;
        final Level level;
        long start;
        int written;
        long suppressed;

        Window(String kind, Level level, long start) {
            this.kind = kind;
            this.level = level;
            this.start = start;
        }
    }

    /**
     * A limiter writing to {@code sink}.
     *
     * @param sink receives every line written, summaries included
     * @param linesPerInterval lines of one kind written per interval, at least 1
     * @param interval the interval, positive
     * @param nanoClock monotonic nanoseconds ({@code System::nanoTime}; tests move time themselves)
     * @throws IllegalArgumentException if {@code linesPerInterval < 1} or the interval is not positive
     */
    public RateLimitedLog(Sink sink, int linesPerInterval, Duration interval, LongSupplier nanoClock) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        if (linesPerInterval < 1) {
            throw new IllegalArgumentException("lines per interval must be at least 1, got " + linesPerInterval);
        }
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("the interval must be positive, got " + interval);
        }
        this.linesPerInterval = linesPerInterval;
        this.intervalNanos = interval.toNanos();
    }

    /**
     * The limiter of {@code logger} with the default limits, shared by every caller that names a
     * logger of the same name (one per logger, as SLF4J keeps one logger per name).
     */
    public static RateLimitedLog forLogger(Logger logger) {
        Objects.requireNonNull(logger, "logger");
        return BY_LOGGER.computeIfAbsent(
                logger.getName(),
                name -> new RateLimitedLog(
                        (level, line, cause) ->
                                logger.atLevel(level).setCause(cause).log(line),
                        DEFAULT_LINES_PER_INTERVAL,
                        DEFAULT_INTERVAL,
                        System::nanoTime));
    }

    /** {@link #log} at {@link Level#WARN}. */
    public void warn(String kind, String format, Object... args) {
        log(Level.WARN, kind, format, args);
    }

    /** {@link #log} at {@link Level#ERROR}. */
    public void error(String kind, String format, Object... args) {
        log(Level.ERROR, kind, format, args);
    }

    /** {@link #log} at {@link Level#DEBUG}. */
    public void debug(String kind, String format, Object... args) {
        log(Level.DEBUG, kind, format, args);
    }

    /**
     * Writes one line of {@code kind}, or counts it when the kind's lines for this interval are
     * used up. {@code format} and {@code args} are SLF4J's: {@code {}} placeholders, and a last
     * argument that is a {@link Throwable} beyond the placeholders becomes the line's cause.
     *
     * @param level the level of the line (and of the kind's summaries)
     * @param kind a constant naming the message, never data from a plugin
     */
    public void log(Level level, String kind, String format, Object... args) {
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(kind, "kind");
        String pendingSummary = null;
        String line = null;
        Throwable cause = null;
        Level summaryLevel = level;
        synchronized (this) {
            long now = nanoClock.getAsLong();
            Window w = windows.get(kind);
            if (w == null) {
                w = new Window(kind, level, now);
                windows.put(kind, w);
            } else if (now - w.start >= intervalNanos) {
                summaryLevel = w.level;
                pendingSummary = w.suppressed == 0 ? null : summary(w, now);
                restart(w, now);
            }
            if (w.written < linesPerInterval) {
                w.written++;
                FormattingTuple t = MessageFormatter.arrayFormat(format, args);
                line = t.getMessage();
                cause = t.getThrowable();
                if (w.written == linesPerInterval) {
                    line += " (line " + linesPerInterval + " of this kind in " + seconds(intervalNanos)
                            + "; more are counted, not written, until the interval is over)";
                }
            } else {
                w.suppressed++;
                suppressedTotal++;
            }
        }
        // Outside the lock: a slow appender must not serialize the callers of other kinds.
        if (pendingSummary != null) {
            sink.write(summaryLevel, pendingSummary, null);
        }
        if (line != null) {
            sink.write(level, line, cause);
        }
    }

    /**
     * Writes the summary of every kind whose interval is over and that held lines back, and starts
     * a new interval for it. Cheap when nothing is due; an owner that runs every step calls it once
     * per step.
     */
    public void flushDue() {
        flush(false);
    }

    /** Writes the summary of every kind that held lines back, whether or not its interval is over. */
    public void flushAll() {
        flush(true);
    }

    /** Lines held back since construction, over every kind (summaries do not count them twice). */
    public synchronized long suppressedTotal() {
        return suppressedTotal;
    }

    private void flush(boolean all) {
        List<Window> due = new ArrayList<>();
        List<String> summaries = new ArrayList<>();
        synchronized (this) {
            long now = nanoClock.getAsLong();
            for (Window w : windows.values()) {
                if (w.suppressed > 0 && (all || now - w.start >= intervalNanos)) {
                    due.add(w);
                    summaries.add(summary(w, now));
                    restart(w, now);
                }
            }
        }
        for (int i = 0; i < due.size(); i++) {
            sink.write(due.get(i).level, summaries.get(i), null);
        }
    }

    /** The summary line of {@code w}'s interval ending at {@code now}, which held lines back. */
    private static String summary(Window w, long now) {
        return "... and " + w.suppressed + " more like this suppressed in the last " + seconds(now - w.start)
                + " (kind " + w.kind + ")";
    }

    /** Starts a new interval of {@code w} at {@code now}. */
    private static void restart(Window w, long now) {
        w.start = now;
        w.written = 0;
        w.suppressed = 0;
    }

    private static String seconds(long nanos) {
        return Math.max(1, Math.round(nanos / 1e9)) + " s";
    }
}
