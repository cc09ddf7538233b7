package io.kvconnect.core.sched;

import io.kvconnect.core.logging.RateLimitedLog;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
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
    private final HookTimer timer;
    private final HookTimer.Site site;
    private Throwable lastFailure;

    /**
     * @param connectorName the connector's name, for messages
     * @param onFailure told of every failed call (counting, the disable policy)
     * @param timer bounds each call (its site for this thread is taken here); {@code null} for
     *     a scheduler without a connector, whose guard is never asked to call anything
     */
    HookGuard(String connectorName, Runnable onFailure, HookTimer timer) {
        this.connectorName = connectorName;
        this.onFailure = onFailure;
        this.timer = timer;
        this.site = timer == null ? null : timer.site("the scheduler");
    }

    /** Calls {@code hook}; {@code null} if it threw, returned null or ran past the timeout. */
    <T> T call(String hookName, Supplier<T> hook) {
        T result;
        enter(hookName);
        try {
            result = hook.get();
        } catch (Throwable e) {
            exit();
            failed(hookName, e);
            return null;
        }
        if (exit()) {
            failed(hookName, new TimeoutException(timer.overranReason(hookName)));
            return null;
        }
        if (result == null) {
            failed(hookName, new NullPointerException(hookName + " returned null"));
        }
        return result;
    }

    /** Calls {@code hook}; {@code false} if it threw or ran past the timeout. */
    boolean run(String hookName, Runnable hook) {
        enter(hookName);
        try {
            hook.run();
        } catch (Throwable e) {
            exit();
            failed(hookName, e);
            return false;
        }
        if (exit()) {
            failed(hookName, new TimeoutException(timer.overranReason(hookName)));
            return false;
        }
        return true;
    }

    private void enter(String hookName) {
        if (site != null) {
            site.enter(hookName);
        }
    }

    private boolean exit() {
        return site != null && site.exit();
    }

    /** A short reason naming the hook and the last failure, for failed requests. */
    String reason(String hookName) {
        return "connector '" + connectorName + "' failed in " + hookName + ": "
                + (lastFailure == null ? "unknown error" : lastFailure);
    }

    private void failed(String hookName, Throwable e) {
        if (e instanceof OutOfMemoryError oom) {
            throw new ConnectorFatalError(connectorName, hookName, "the scheduler", oom);
        }
        lastFailure = e;
        // Rate-limited per hook: a connector that throws on every call must not flood the log.
        RateLimitedLog.forLogger(LOG).error("hook-failed-" + hookName,
                "Connector '{}' threw from {}; the engine contains it and goes on", connectorName, hookName, e);
        onFailure.run();
    }
}
