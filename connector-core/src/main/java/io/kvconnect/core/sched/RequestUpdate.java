package io.kvconnect.core.sched;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import java.util.Objects;

/** What happened to a request in a step, for whoever submitted it. */
public sealed interface RequestUpdate permits RequestUpdate.TokenAdded, RequestUpdate.Finished {
    /** The request. */
    String requestId();

    /**
     * A token was sampled and confirmed.
     *
     * @param requestId the request
     * @param token the token id
     * @param numOutputTokens output tokens so far, this one included
     */
    record TokenAdded(String requestId, int token, int numOutputTokens) implements RequestUpdate {
        /** Checks: the count includes this token, so it is at least 1. */
        public TokenAdded {
            Objects.requireNonNull(requestId, "requestId");
            RequestUpdates.checkOutputCount(numOutputTokens);
        }
    }

    /**
     * The request finished.
     *
     * @param requestId the request
     * @param status the finished status
     * @param reason why it failed, or empty
     * @param transferParams the connector's transfer parameters for the response
     * @param outputTokens every output token
     */
    record Finished(
            String requestId, RequestStatus status, String reason, TransferParams transferParams, int[] outputTokens)
            implements RequestUpdate {
        /** Checks. */
        public Finished {
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(transferParams, "transferParams");
            if (!status.isFinished()) {
                throw new IllegalArgumentException(status + " is not a finished status");
            }
        }
    }
}
