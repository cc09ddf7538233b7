package io.kvconnect.multi;

import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import java.util.List;
import java.util.Set;

/** A step's scheduling decisions, as the test sets them. */
record FakeOutput(long step, List<ScheduledRequest> scheduledRequests, Set<String> preemptedRequestIds,
                  Set<String> finishedRequestIds, int totalScheduledTokens) implements SchedulerOutputView {
    static FakeOutput of(long step, Set<String> finished) {
        return new FakeOutput(step, List.of(), Set.of(), finished, 0);
    }
}
