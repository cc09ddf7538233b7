package io.kvconnect.core.sched;

import io.kvconnect.core.logging.RateLimitedLog;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls scheduler-side connector hooks so that nothing a hook does escapes into the engine: any
 * {@link Throwable} it throws (runtime exceptions, errors such as {@link StackOverflowError} or
 * {@link AssertionError}, checked exceptions thrown sneakily, linkage errors of a broken jar) and a
 * call that runs past the hook timeout are logged with the hook's name, counted, and the caller
 * gets {@code null} and decides what the failure means for the requests involved. The one
 * exception is heap exhaustion: an {@link OutOfMemoryError} is rethrown as a {@link
 * ConnectorFatalError} naming the hook and connector, which stops the engine.
 *
 * <p><b>Thread.</b> The scheduler thread only.
 */
final class HookGuard {
    private static final Logger LOG = LoggerFactory.getLogger(HookGuard.class);

    private final String connectorName;
    private final Runnable onFailure;
    private final @Nullable HookTimer timer;
    private final HookTimer.@Nullable Site site;
    private @Nullable Throwable lastFailure;

    /**
     * @param connectorName the connector's name, for messages
     * @param onFailure told of every failed call (counting, the disable policy)
     * @param timer bounds each call (its site for this thread is taken here); {@code null} for
     *     a scheduler without a connector, whose guard is never asked to call anything
     */
    HookGuard(String connectorName, Runnable onFailure, @Nullable HookTimer timer) {
        this.connectorName = connectorName;
        this.onFailure = onFailure;
        this.timer = timer;
        this.site = timer == null ? null : timer.site("the scheduler");
    }

    /** Calls {@code call}; {@code null} if it threw, returned null or ran past the timeout. */
    <T> @Nullable T call(ConnectorHook hook, Supplier<T> call) {
        T result;
        enter(hook);
        try {
            result = call.get();
        } catch (Throwable e) {
            exit();
            failed(hook, e);
            return null;
        }
        if (exit()) {
            failed(hook, new TimeoutException(overranReason(hook)));
            return null;
        }
        if (result == null) {
            failed(hook, new NullPointerException(hook + " returned null"));
        }
        return result;
    }

    /** Calls {@code call}; {@code false} if it threw or ran past the timeout. */
    boolean run(ConnectorHook hook, Runnable call) {
        enter(hook);
        try {
            call.run();
        } catch (Throwable e) {
            exit();
            failed(hook, e);
            return false;
        }
        if (exit()) {
            failed(hook, new TimeoutException(overranReason(hook)));
            return false;
        }
        return true;
    }

    private void enter(ConnectorHook hook) {
        if (site != null) {
            site.enter(hook.toString());
        }
    }

    private boolean exit() {
        return site != null && site.exit();
    }

    /** Why {@code hook}'s call failed after {@link #exit()} said it overran, which takes a site, so a timer. */
    private String overranReason(ConnectorHook hook) {
        return Objects.requireNonNull(timer, "timer").overranReason(hook.toString());
    }

    /** A short reason naming the hook and the last failure, for failed requests. */
    String reason(ConnectorHook hook) {
        return "connector '" + connectorName + "' failed in " + hook + ": "
                + (lastFailure == null ? "unknown error" : lastFailure);
    }

    private void failed(ConnectorHook hook, Throwable thrown) {
        if (thrown instanceof OutOfMemoryError oom) {
            throw new ConnectorFatalError(connectorName, hook.toString(), "the scheduler", oom);
        }
        // Logged and kept for reasons: plugin code, so only as an engine-owned copy.
        Throwable e = ContainedThrowable.of(thrown);
        lastFailure = e;
        // Rate-limited per hook: a connector that throws on every call must not flood the log.
        RateLimitedLog.forLogger(LOG)
                .error(
                        hook.failureLogKind(),
                        "Connector '{}' threw from {}; the engine contains it and goes on",
                        connectorName,
                        hook,
                        e);
        onFailure.run();
    }
}
