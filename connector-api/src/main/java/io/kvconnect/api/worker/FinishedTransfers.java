package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;
import java.util.Set;

/**
 * One worker's answer from {@link WorkerConnector#getFinished}.
 *
 * @param sending requests whose sends or saves finished on this worker; only ids for which the
 *     scheduler side returned {@code delayFree} (they arrived in some earlier or the current
 *     {@code finishedRequestIds}) may appear
 * @param receiving requests whose asynchronous loads finished on this worker, successfully or not
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public record FinishedTransfers(Set<String> sending, Set<String> receiving) {
    /** Nothing finished. */
    public static final FinishedTransfers NONE = new FinishedTransfers(Set.of(), Set.of());

    /** Copies both sets. */
    public FinishedTransfers {
        sending = Set.copyOf(sending);
        receiving = Set.copyOf(receiving);
    }
}
