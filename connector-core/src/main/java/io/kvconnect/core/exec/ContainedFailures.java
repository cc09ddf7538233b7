package io.kvconnect.core.exec;

/**
 * What the engine does with a {@link Throwable} out of plugin code it calls outside a hook (a
 * connector's stats or metadata {@code aggregate}, its stats' {@code summary}): it is contained
 * (logged and counted by the caller) unless it is heap exhaustion, which no code can be trusted to
 * recover from.
 */
public final class ContainedFailures {
    private ContainedFailures() {}

    /** Rethrows {@code e} if it is an {@link OutOfMemoryError}; returns otherwise. */
    public static void rethrowIfFatal(Throwable e) {
        if (e instanceof OutOfMemoryError oom) {
            throw oom;
        }
    }
}
