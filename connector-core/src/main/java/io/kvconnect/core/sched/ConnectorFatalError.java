package io.kvconnect.core.sched;

import java.util.Objects;

/**
 * A connector hook exhausted the heap ({@link OutOfMemoryError}). Unlike every other failure of a
 * hook, which the engine contains and handles under its connector error policy, heap exhaustion is
 * fatal to the process: nothing else can be trusted to allocate. The engine stops, and the command
 * line reports which hook of which connector and exits with status {@value #EXIT_STATUS}, without a
 * stack trace.
 */
public final class ConnectorFatalError extends Error {
    /** The exit status of the command line after a fatal connector failure. */
    public static final int EXIT_STATUS = 3;

    private static final long serialVersionUID = 1L;

    private final String connector;
    private final String hook;
    private final String where;

    /**
     * @param connector the connector's name
     * @param hook the hook that failed
     * @param where which thread: {@code "the scheduler"} or {@code "worker 1"}
     * @param cause the error
     */
    public ConnectorFatalError(String connector, String hook, String where, Throwable cause) {
        super(
                "connector '" + connector + "' failed fatally in " + hook + " on " + where + ": "
                        + ContainedThrowable.of(cause),
                cause);
        this.connector = Objects.requireNonNull(connector, "connector");
        this.hook = Objects.requireNonNull(hook, "hook");
        this.where = Objects.requireNonNull(where, "where");
    }

    /** The connector's name. */
    public String connector() {
        return connector;
    }

    /** The hook that failed. */
    public String hook() {
        return hook;
    }

    /** Where it ran: the scheduler or a worker rank. */
    public String where() {
        return where;
    }
}
