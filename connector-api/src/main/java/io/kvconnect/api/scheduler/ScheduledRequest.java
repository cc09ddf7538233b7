package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;
import io.kvconnect.api.common.BlockIds;
import java.util.Objects;

/**
 * One request scheduled in a step, as listed in {@link SchedulerOutputView#scheduledRequests()}.
 *
 * @param request the live view of the request
 * @param kind why it is in this step
 * @param numScheduledTokens tokens computed for it in this step
 * @param numComputedTokensBefore the request's {@link RequestView#numComputedTokens()} plus its
 *     in-flight positions before this step, i.e. the first position this step computes
 * @param newBlockIds blocks allocated to it in this step; for {@link Kind#NEW} and {@link
 *     Kind#RESUMED} all of its blocks
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public record ScheduledRequest(
        RequestView request, Kind kind, int numScheduledTokens, int numComputedTokensBefore, BlockIds newBlockIds) {
    /** Validates. */
    public ScheduledRequest {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(newBlockIds, "newBlockIds");
        if (numScheduledTokens < 0 || numComputedTokensBefore < 0) {
            throw new IllegalArgumentException("token counts must be >= 0");
        }
    }

    /** Why a request is in a step. */
    @Stability(value = Stability.Level.STABLE, since = "0.1")
    public enum Kind {
        /** First time scheduled. */
        NEW,
        /** Scheduled again after a preemption; its blocks were all allocated anew. */
        RESUMED,
        /** Was running in the previous step too. */
        CONTINUING
    }
}
