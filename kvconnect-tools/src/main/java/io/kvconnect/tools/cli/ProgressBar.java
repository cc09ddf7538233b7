package io.kvconnect.tools.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A text progress indicator for a job of known size.
 *
 * <p>On a terminal ({@code interactive}) it redraws one line in place with a carriage return,
 * {@code "label [#########.....................]  30% 90/300"}, at most every 100 ms so that a
 * fast loop does not flood the terminal. Elsewhere (a log file, CI output) it prints plain lines,
 * {@code "label  30% 90/300"}, at most one per 10% of progress. {@link #finish()} prints the
 * final 100% state followed by a newline, once.
 *
 * <p>Not thread-safe: update it from one thread.
 */
final class ProgressBar {
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int WIDTH = 30;
    private static final int PLAIN_STEPS = 10;

    private final PrintWriter out;
    private final String label;
    private final long total;
    private final boolean interactive;
    private final LongSupplier nanoClock;
    private boolean drawn;
    private long lastDrawNanos;
    private long lastPrintedStep = -1;
    private long lastPrintedDone = -1;
    private boolean finished;

    /**
     * A bar that has drawn nothing yet.
     *
     * @param out where to draw; flushed after every write
     * @param label what is progressing, printed first
     * @param total the amount of work, at least 0 (0 shows as complete)
     * @param interactive whether {@code out} is a terminal that honours carriage returns
     * @param nanoClock a monotonic clock in nanoseconds, such as {@code System::nanoTime}
     * @throws IllegalArgumentException if {@code total} is negative
     */
    ProgressBar(PrintWriter out, String label, long total, boolean interactive, LongSupplier nanoClock) {
        this.out = Objects.requireNonNull(out, "out");
        this.label = Objects.requireNonNull(label, "label");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        if (total < 0) {
            throw new IllegalArgumentException("total is " + total + "; must be at least 0");
        }
        this.total = total;
        this.interactive = interactive;
    }

    /**
     * Reports that {@code done} units are complete (clamped to [0, total]); draws only if the
     * throttle above allows. Ignored after {@link #finish()}.
     */
    public void update(long done) {
        if (finished) {
            return;
        }
        long clamped = Math.clamp(done, 0, total);
        if (interactive) {
            long now = nanoClock.getAsLong();
            if (!drawn || now - lastDrawNanos >= REDRAW_NANOS) {
                drawn = true;
                lastDrawNanos = now;
                out.print("\r" + bar(clamped));
                out.flush();
            }
        } else {
            long step = share(clamped, PLAIN_STEPS);
            if (step > lastPrintedStep) {
                printPlain(clamped, step);
            }
        }
    }

    /** Prints the final 100% state and ends the line; only the first call does anything. */
    public void finish() {
        if (finished) {
            return;
        }
        finished = true;
        if (interactive) {
            out.print("\r" + bar(total) + "\n");
            out.flush();
        } else if (lastPrintedDone != total) {
            printPlain(total, PLAIN_STEPS);
        }
    }

    private void printPlain(long done, long step) {
        lastPrintedStep = step;
        lastPrintedDone = done;
        // "\n", not println: the output must not depend on the platform's line separator.
        out.print(label + " " + percent(done) + " " + done + "/" + total + "\n");
        out.flush();
    }

    private String bar(long done) {
        int filled = (int) share(done, WIDTH);
        return label + " [" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + percent(done) + " " + done + "/"
                + total;
    }

    /** The percentage, rounded down so 100% means done, right-aligned in four characters. */
    private String percent(long done) {
        long pct = share(done, 100);
        return String.format(Locale.ROOT, "%3d%%", pct);
    }

    /** {@code done * parts / total} rounded down, without overflow; {@code parts} when total is 0. */
    private long share(long done, long parts) {
        if (total == 0) {
            return parts;
        }
        if (total <= Long.MAX_VALUE / parts) {
            return done * parts / total; // done <= total, so the product fits
        }
        return done == total ? parts : Math.min(parts - 1, (long) ((double) done / total * parts));
    }
}
