package io.kvconnect.api.scheduler;

import io.kvconnect.api.common.Stability;
import java.util.List;
import java.util.Set;

/**
 * The decisions of one scheduling step, handed to {@link SchedulerConnector#buildConnectorMetadata}.
 * Immutable; valid on the scheduler thread.
 */
@Stability(Stability.Level.EVOLVING)
public interface SchedulerOutputView {
    /** The step number. */
    long step();

    /** Requests computed in this step, in batch order. */
    List<ScheduledRequest> scheduledRequests();

    /**
     * Requests preempted in this step. Their blocks are already back in the pool and may be
     * reallocated in this very step: a connector must make its workers fence (finish or cancel)
     * any copy still reading or writing those blocks in {@code WorkerConnector.handlePreemptions},
     * which runs before the step's forward pass.
     */
    Set<String> preemptedRequestIds();

    /** Requests that finished since the previous step's output (including aborts). */
    Set<String> finishedRequestIds();

    /** Sum of {@link ScheduledRequest#numScheduledTokens()} over the step. */
    int totalScheduledTokens();
}
