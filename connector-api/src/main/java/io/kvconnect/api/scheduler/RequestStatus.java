package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;

/** Where a request is in the engine's life cycle. */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public enum RequestStatus {
    /** Queued, never scheduled (or promoted after an asynchronous load). */
    WAITING,
    /** Blocks allocated; waiting for a connector's asynchronous load to finish. */
    WAITING_FOR_REMOTE_KV,
    /** Being computed. */
    RUNNING,
    /** Its blocks were taken back under memory pressure; it will be recomputed. */
    PREEMPTED,
    /** Finished: stop token or stop condition. */
    FINISHED_STOPPED,
    /** Finished: reached its maximum number of tokens. */
    FINISHED_LENGTH_CAPPED,
    /** Finished: aborted by the client or the operator. */
    FINISHED_ABORTED,
    /** Finished: failed (for example a KV load failure under the {@code fail} policy). */
    FINISHED_ERROR;

    /** {@return whether this status is one of the finished ones} */
    public boolean isFinished() {
        return ordinal() >= FINISHED_STOPPED.ordinal();
    }
}
