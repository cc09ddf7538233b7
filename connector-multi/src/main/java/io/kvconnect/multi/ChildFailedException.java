package io.kvconnect.multi;

import java.io.Serial;

/**
 * A child connector's hook threw (or returned {@code null}). The message names the child by its
 * instance key (such as {@code 1:offload}) and the hook; the child's exception is the cause.
 *
 * <p>Thrown by the composite's hooks, the first failure of a call carrying the others as
 * suppressed exceptions (see {@link Failures}); the engine contains it like any hook failure.
 */
final class ChildFailedException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String child;
    private final String hook;

    ChildFailedException(String child, String hook, Throwable cause) {
        super("child connector " + child + " failed in " + hook + ": " + cause, cause);
        this.child = child;
        this.hook = hook;
    }

    /** The child's instance key. */
    String child() {
        return child;
    }

    /** The hook that failed. */
    String hook() {
        return hook;
    }
}
