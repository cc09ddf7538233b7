package io.kvconnect.core.exec;

import io.kvconnect.core.sched.ConnectorFatalError;
import io.kvconnect.core.sched.ContainedThrowable;
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
 * PluginCallException} naming what was called, with what it threw as its cause (plugin code: print
 * it only as a {@link ContainedThrowable}); heap exhaustion as a {@link ConnectorFatalError}.
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
        // What the body throws comes back as a value, not through an ExecutionException, whose
        // constructor would call the throwable's toString: plugin code, outside the bound.
        FutureTask<Outcome<T>> task = new FutureTask<>(() -> {
            try {
                return new Returned<>(body.call());
            } catch (Throwable e) {
                return new Threw<>(e);
            }
        });
        Thread t = Thread.ofPlatform().daemon().name("kv-plugin-call").start(task);
        Outcome<T> outcome;
        try {
            outcome = task.get(bound.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a bounded call threw past its own catch", e); // cannot happen
        } catch (TimeoutException e) {
            t.interrupt();
            throw new PluginCallException(
                    "connector '" + connector + "' did not return from " + what + " within " + bound.toMillis() + " ms",
                    e);
        }
        if (outcome instanceof Returned<T> r) {
            return r.value();
        }
        Throwable cause = ((Threw<T>) outcome).thrown();
        if (cause instanceof OutOfMemoryError oom) {
            throw new ConnectorFatalError(connector, what, "a start-up thread", oom);
        }
        // The cause stays the plugin's own (callers tell refusals by its type); the message is
        // built from an engine-owned copy, since its toString is plugin code.
        throw new PluginCallException(
                "connector '" + connector + "' failed in " + what + ": " + ContainedThrowable.of(cause), cause);
    }

    /** What the body returned, or what it threw. */
    private sealed interface Outcome<T> permits Returned, Threw {}

    private record Returned<T>(T value) implements Outcome<T> {}

    private record Threw<T>(Throwable thrown) implements Outcome<T> {}
}
