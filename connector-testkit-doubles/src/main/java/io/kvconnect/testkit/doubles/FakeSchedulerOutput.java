package io.kvconnect.testkit.doubles;

import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import java.util.List;
import java.util.Set;

/**
 * A step's scheduling decisions as {@code buildConnectorMetadata} sees them, as the test sets
 * them. {@link #totalScheduledTokens()} is the sum over {@code scheduledRequests}, as the engine's.
 *
 * @param step the engine step
 * @param scheduledRequests the requests scheduled in the step, in order
 * @param preemptedRequestIds requests preempted in the step
 * @param finishedRequestIds requests that finished since the previous step
 */
public record FakeSchedulerOutput(
        long step,
        List<ScheduledRequest> scheduledRequests,
        Set<String> preemptedRequestIds,
        Set<String> finishedRequestIds)
        implements SchedulerOutputView {
    /** Copies. */
    public FakeSchedulerOutput {
        scheduledRequests = List.copyOf(scheduledRequests);
        preemptedRequestIds = Set.copyOf(preemptedRequestIds);
        finishedRequestIds = Set.copyOf(finishedRequestIds);
    }

    /** A step that scheduled {@code scheduled}, preempting and finishing nothing. */
    public static FakeSchedulerOutput of(long step, List<ScheduledRequest> scheduled) {
        return new FakeSchedulerOutput(step, scheduled, Set.of(), Set.of());
    }

    @Override
    public int totalScheduledTokens() {
        return scheduledRequests.stream()
                .mapToInt(ScheduledRequest::numScheduledTokens)
                .sum();
    }
}
