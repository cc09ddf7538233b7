package io.kvconnect.core.sched;

import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls connector hooks so that an exception (or a linkage error from a broken plugin jar) never
 * escapes into the engine: it is logged with the hook's name and counted, and the caller gets
 * {@code null} and decides what the failure means for the requests involved.
 */
final class HookGuard {
    private static final Logger LOG = LoggerFactory.getLogger(HookGuard.class);

    private final String connectorName;
    private final Runnable onFailure;
    private Throwable lastFailure;

    HookGuard(String connectorName, Runnable onFailure) {
        this.connectorName = connectorName;
        this.onFailure = onFailure;
    }

    /** Calls {@code hook}; {@code null} if it threw (or returned null). */
    <T> T call(String hookName, Supplier<T> hook) {
        try {
            T result = hook.get();
            if (result == null) {
                throw new NullPointerException(hookName + " returned null");
            }
            return result;
        } catch (RuntimeException | LinkageError e) {
            failed(hookName, e);
            return null;
        }
    }

    /** Calls {@code hook}; {@code false} if it threw. */
    boolean run(String hookName, Runnable hook) {
        try {
            hook.run();
            return true;
        } catch (RuntimeException | LinkageError e) {
            failed(hookName, e);
            return false;
        }
    }

    /** A short reason naming the hook and the last failure, for failed requests. */
    String reason(String hookName) {
        return "connector '" + connectorName + "' failed in " + hookName + ": "
                + (lastFailure == null ? "unknown error" : lastFailure);
    }

    private void failed(String hookName, Throwable e) {
        lastFailure = e;
        LOG.error("Connector '{}' threw from {}; the engine contains it and goes on", connectorName, hookName, e);
        onFailure.run();
    }
}
