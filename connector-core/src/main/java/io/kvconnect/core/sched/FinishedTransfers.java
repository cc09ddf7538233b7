package io.kvconnect.core.sched;

import java.util.Set;

/**
 * Finished sends and receives: one rank's as it reported them, or a step's as the {@link
 * TransferBook} counted them complete.
 *
 * @param sending requests whose sends or saves finished
 * @param receiving requests whose asynchronous loads finished, successfully or not
 */
public record FinishedTransfers(Set<String> sending, Set<String> receiving) {
    /** Nothing finished. */
    public static final FinishedTransfers NONE = new FinishedTransfers(Set.of(), Set.of());

    /** Copies both sets. */
    public FinishedTransfers {
        sending = Set.copyOf(sending);
        receiving = Set.copyOf(receiving);
    }
}
