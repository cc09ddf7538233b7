package io.kvconnect.core.sched;

/**
 * What the scheduler is waiting for, asked while a step's finished-transfer reports are counted.
 *
 * <p>Supplied by the scheduler and called on the engine thread from inside the executor's
 * aggregation; must answer from the scheduler's current state without side effects and must not
 * call back into the aggregator.
 */
public interface AwaitingTransfers {
    /** Whether {@code requestId} holds blocks that are freed only once its send (or save) finishes. */
    boolean awaitingSend(String requestId);

    /** Whether {@code requestId} waits for an asynchronous load to finish. */
    boolean awaitingReceive(String requestId);
}
