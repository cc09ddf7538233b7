package io.kvconnect.multi;

import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import java.util.List;
import java.util.Set;

/**
 * A step's scheduling decisions as one child sees them: the engine's, with the scheduled requests'
 * views replaced by the child's own ({@link ChildScope#output}). Built only for a child that needs
 * it; immutable.
 *
 * @param step the step number
 * @param scheduledRequests the scheduled requests, each with the child's view of the request
 * @param preemptedRequestIds as the engine's
 * @param finishedRequestIds as the engine's
 * @param totalScheduledTokens as the engine's
 */
record ChildOutputView(
        long step,
        List<ScheduledRequest> scheduledRequests,
        Set<String> preemptedRequestIds,
        Set<String> finishedRequestIds,
        int totalScheduledTokens)
        implements SchedulerOutputView {
    /** Copies the list. */
    ChildOutputView {
        scheduledRequests = List.copyOf(scheduledRequests);
    }

    // The index reads: this view's entries are built already (the child's own request views).

    @Override
    public int numScheduledRequests() {
        return scheduledRequests.size();
    }

    @Override
    public RequestView requestAt(int index) {
        return scheduledRequests.get(index).request();
    }

    @Override
    public ScheduledRequest.Kind kindAt(int index) {
        return scheduledRequests.get(index).kind();
    }

    @Override
    public int numScheduledTokensAt(int index) {
        return scheduledRequests.get(index).numScheduledTokens();
    }

    @Override
    public int numComputedTokensBeforeAt(int index) {
        return scheduledRequests.get(index).numComputedTokensBefore();
    }
}
