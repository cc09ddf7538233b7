package io.kvconnect.core.sched;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * An engine-owned copy of a {@link Throwable} that plugin code threw or reported, made before the
 * engine logs it, keeps it or puts it into a request's failure reason.
 *
 * <p>Why a copy: a plugin's throwable is plugin code. Its {@code toString}, {@code getMessage},
 * {@code getStackTrace} and {@code getCause} may be overridden to throw, to return garbage or to
 * build an endless chain of causes, and the engine calls them outside any hook: a logger prints
 * the stack trace, a reason concatenates the text. The copy reads each of them once, here, with
 * every failure caught, a bounded number of causes and suppressed throwables, and a bounded message
 * length; what the engine does with it later runs only engine code. Its text reads like the
 * original's ({@code java.io.IOException: disk gone}), and so do its causes in a stack trace.
 */
public final class ContainedThrowable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Causes (and suppressed throwables) followed below the first throwable. */
    static final int MAX_DEPTH = 8;
    /** Suppressed throwables copied per throwable. */
    static final int MAX_SUPPRESSED = 8;
    /** Characters kept of a message. */
    static final int MAX_MESSAGE = 4_096;

    /** What {@link #toString()} says: the original's class and message. */
    private final String description;

    private ContainedThrowable(String description, @Nullable String message) {
        super(message);
        this.description = description;
    }

    /**
     * {@return an engine-owned copy of {@code e}} Never throws on account of what {@code e}'s own
     * methods do (they may only block, which no copy can prevent). A copy is returned as it is.
     *
     * @param e what plugin code threw or reported
     */
    public static Throwable of(Throwable e) {
        if (e instanceof ContainedThrowable) {
            return e;
        }
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        seen.add(e);
        return copy(e, 0, seen);
    }

    private static ContainedThrowable copy(Throwable e, int depth, Set<Throwable> seen) {
        // getClass() is final: the one call here that runs no plugin code.
        String className = e.getClass().getName();
        String message = message(e);
        ContainedThrowable c =
                new ContainedThrowable(message == null ? className : className + ": " + message, message);
        c.setStackTrace(stackTrace(e));
        if (depth < MAX_DEPTH) {
            Throwable cause = cause(e);
            if (cause != null && seen.add(cause)) {
                c.initCause(copy(cause, depth + 1, seen));
            }
            for (Throwable s : suppressed(e)) {
                if (seen.add(s)) {
                    c.addSuppressed(copy(s, depth + 1, seen));
                }
            }
        }
        return c;
    }

    private static @Nullable String message(Throwable e) {
        String m;
        try {
            m = e.getLocalizedMessage();
        } catch (Throwable t) {
            return "(its message could not be read: " + t.getClass().getName() + ")";
        }
        if (m == null || m.length() <= MAX_MESSAGE) {
            return m;
        }
        return m.substring(0, MAX_MESSAGE) + "... (" + (m.length() - MAX_MESSAGE) + " more characters)";
    }

    private static StackTraceElement[] stackTrace(Throwable e) {
        StackTraceElement[] frames;
        try {
            frames = e.getStackTrace();
        } catch (Throwable t) {
            return new StackTraceElement[0];
        }
        if (frames == null) {
            return new StackTraceElement[0];
        }
        List<StackTraceElement> kept = new ArrayList<>(frames.length);
        for (StackTraceElement f : frames) {
            if (f != null) {
                kept.add(f);
            }
        }
        return kept.toArray(StackTraceElement[]::new);
    }

    private static @Nullable Throwable cause(Throwable e) {
        try {
            return e.getCause();
        } catch (Throwable t) {
            return null;
        }
    }

    private static List<Throwable> suppressed(Throwable e) {
        // getSuppressed() is final and returns a copy of the JDK's own list.
        Throwable[] all = e.getSuppressed();
        List<Throwable> out = new ArrayList<>(Math.min(all.length, MAX_SUPPRESSED));
        for (int i = 0; i < all.length && out.size() < MAX_SUPPRESSED; i++) {
            out.add(all[i]);
        }
        return out;
    }

    /** The stack trace is the original's, set by {@link #copy}: the copy's own would say nothing. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }

    @Override
    public String toString() {
        return description;
    }
}
