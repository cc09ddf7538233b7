package io.kvconnect.core.exec;

import io.kvconnect.core.sched.ConnectorFatalError;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Runs plugin code that is not a hook of a running engine (a provider's constructor, creating a
 * connector's sides) on a thread of its own with a time bound, so a plugin that hangs there delays
 * start-up by the bound, not forever. Whatever the code throws comes back as a {@link
 * PluginCallException} naming what was called; heap exhaustion as a {@link ConnectorFatalError}.
 */
public final class BoundedCall {
    private BoundedCall() {}

    /** The call threw, or did not return in time. */
    public static final class PluginCallException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PluginCallException(String message, @Nullable Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Calls {@code body} on a new daemon thread named after {@code what}, waiting at most {@code
     * bound}. A call that does not return in time is interrupted and left behind (in-process code
     * cannot be stopped); its thread cannot keep the JVM alive.
     *
     * @param connector the connector's name, for messages
     * @param what what is called, for messages, such as {@code "createSchedulerConnector"}
     * @throws PluginCallException if {@code body} threw (other than heap exhaustion) or timed out
     * @throws ConnectorFatalError if it exhausted the heap
     */
    public static <T> T call(String connector, String what, Duration bound, Callable<T> body)
            throws InterruptedException {
        FutureTask<T> task = new FutureTask<>(body);
        Thread t = Thread.ofPlatform().daemon().name("kv-plugin-call").start(task);
        try {
            return task.get(bound.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof OutOfMemoryError oom) {
                throw new ConnectorFatalError(connector, what, "a start-up thread", oom);
            }
            throw new PluginCallException("connector '" + connector + "' failed in " + what + ": " + cause, cause);
        } catch (TimeoutException e) {
            t.interrupt();
            throw new PluginCallException(
                    "connector '" + connector + "' did not return from " + what + " within " + bound.toMillis() + " ms",
                    e);
        }
    }
}
