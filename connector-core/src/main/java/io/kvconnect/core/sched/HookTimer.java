package io.kvconnect.core.sched;

import io.kvconnect.core.logging.RateLimitedLog;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds how long a connector hook may run. Each thread that calls hooks (the scheduler thread,
 * each worker thread) has a {@link Site} it enters before a hook and exits after it; one daemon
 * thread per engine watches the sites. A hook that runs past the timeout is logged once and its
 * thread interrupted, and its call then counts as a failed hook ("did not return within ..."),
 * handled under the connector error policy like a hook that threw. A hook that ignores the
 * interrupt and still runs at three times the timeout is reported as stuck: the engine cannot take
 * the thread back (in-process plugin code cannot be stopped), so it says so once.
 *
 * <p>Why interrupts: the usual blocking calls (sleeps, waits, queue takes, interruptible I/O)
 * return at once with an exception, so a hook stuck on one of them ends within a polling interval
 * of the deadline.
 */
public final class HookTimer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HookTimer.class);

    /** One thread's current hook call. Entered and exited by that thread; watched by the timer. */
    public static final class Site {
        private final String where;
        /** The thread and the hook of the last call entered; {@code null} before the first. */
        private @Nullable Thread thread;

        private @Nullable String hook;
        private long start;
        private boolean overran;
        private boolean stuckReported;
        /** Whether the thread was interrupted before the hook was entered (by the engine's caller). */
        private boolean interruptedBefore;

        Site(String where) {
            this.where = where;
        }

        /** The calling thread is about to call {@code hookName}. */
        public synchronized void enter(String hookName) {
            thread = Thread.currentThread();
            hook = hookName;
            overran = false;
            stuckReported = false;
            interruptedBefore = Thread.currentThread().isInterrupted();
            start = System.nanoTime() | 1; // never 0, which means no hook runs
        }

        /**
         * The hook returned or threw. Leaves the thread's interrupt status as it was when the hook
         * was entered: one set during the hook belongs to the hook (the timer's interrupt, or one
         * the hook set itself and left), since the engine interrupts its threads only to end an
         * overrunning hook, and the engine code after it, which waits for copies and for the other
         * workers, must not see it; one set before belongs to whoever runs the engine.
         *
         * @return whether it ran past the timeout
         */
        public boolean exit() {
            boolean over;
            boolean before;
            String left;
            synchronized (this) {
                start = 0;
                over = overran;
                before = interruptedBefore;
                left = hook == null ? "a hook" : hook; // set by enter(), which precedes exit()
            }
            if (before) {
                Thread.currentThread().interrupt();
            } else if (Thread.interrupted() && !over) {
                RateLimitedLog.forLogger(LOG)
                        .warn(
                                "hook-left-interrupt",
                                "Connector hook {} on {} returned with its thread's interrupt status set; the engine "
                                        + "clears it",
                                left,
                                where);
            }
            return over;
        }

        /** Where the hooks run, for messages: {@code "the scheduler"} or {@code "worker 1"}. */
        public String where() {
            return where;
        }

        /** The hook running now, or {@code null}. */
        public synchronized @Nullable String currentHook() {
            return start == 0 ? null : hook;
        }
    }

    private final String connector;
    private final long timeoutNanos;
    private final List<Site> sites = new CopyOnWriteArrayList<>();
    private final Thread watcher;
    private volatile boolean closed;

    /**
     * Starts the watching daemon thread.
     *
     * @param connector the connector's name, for messages
     * @param timeoutNanos how long one hook call may run
     */
    public HookTimer(String connector, long timeoutNanos) {
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("hook timeout must be positive, got " + timeoutNanos);
        }
        this.connector = connector;
        this.timeoutNanos = timeoutNanos;
        this.watcher = Thread.ofPlatform().daemon().name("kv-hook-timer").unstarted(this::watch);
        watcher.start();
    }

    /** A site for the hooks called on one thread; {@code where} names it in messages. */
    public Site site(String where) {
        Site s = new Site(where);
        sites.add(s);
        return s;
    }

    /** The timeout, for messages. */
    public long timeoutNanos() {
        return timeoutNanos;
    }

    /** What a failed call's reason says when it overran. */
    public String overranReason(String hookName) {
        return "connector '" + connector + "' did not return from " + hookName + " within " + timeoutNanos / 1_000_000
                + " ms";
    }

    private void watch() {
        long interval = Math.max(1_000_000L, Math.min(timeoutNanos / 4, 50_000_000L));
        while (!closed) {
            LockSupport.parkNanos(interval);
            // Only close() stops this thread, through the flag. An interrupt from anyone else (a
            // plugin's thread can reach every thread of the process) would otherwise stay set and
            // make every later park return at once: this thread would spin a core.
            Thread.interrupted();
            long now = System.nanoTime();
            for (Site s : sites) {
                check(s, now);
            }
        }
    }

    private void check(Site s, long now) {
        synchronized (s) {
            if (s.start == 0) {
                return;
            }
            long ran = now - s.start;
            if (!s.overran && ran > timeoutNanos) {
                s.overran = true;
                LOG.error(
                        "Connector '{}' has run {} on {} for {} ms, past the hook timeout; interrupting it (the "
                                + "call counts as a failed hook)",
                        connector,
                        s.hook,
                        s.where,
                        ran / 1_000_000);
                Thread t = s.thread;
                if (t != null) { // always: enter() sets it before start
                    t.interrupt();
                }
            } else if (s.overran && !s.stuckReported && ran > 3 * timeoutNanos) {
                s.stuckReported = true;
                LOG.error(
                        "Connector '{}' is stuck in {} on {} for {} ms and ignores interrupts: that thread cannot "
                                + "be taken back from in-process plugin code; stop the process",
                        connector,
                        s.hook,
                        s.where,
                        ran / 1_000_000);
            }
        }
    }

    /** The thread that watches the sites, for tests. */
    Thread watcherThread() {
        return watcher;
    }

    /** Stops the watching thread. Idempotent. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(watcher);
    }
}
