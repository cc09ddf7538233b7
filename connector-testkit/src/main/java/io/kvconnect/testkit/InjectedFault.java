package io.kvconnect.testkit;

/** Thrown by a connector hook on purpose by a {@link Soak}'s fault plan. */
final class InjectedFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InjectedFault(String hook) {
        super("injected fault in " + hook);
    }
}
