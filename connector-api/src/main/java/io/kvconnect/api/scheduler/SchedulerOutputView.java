package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;
import java.util.List;
import java.util.Set;

/**
 * The decisions of one scheduling step, handed to {@link SchedulerConnector#buildConnectorMetadata}.
 * Immutable; valid on the scheduler thread.
 *
 * <p>Read it during that call. The engine reuses the storage behind a step's decisions once the
 * step after next is scheduled; an entry of {@link #scheduledRequests()} first read after that
 * throws {@link IllegalStateException} rather than show another step's decisions. Entries read
 * during the call stay valid: keep those, or what you copied from them, not the view.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface SchedulerOutputView {
    /** {@return the step number} */
    long step();

    /** {@return requests computed in this step, in batch order} */
    List<ScheduledRequest> scheduledRequests();

    /**
     * {@return the requests preempted in this step} Their blocks are already back in the pool and
     * may be reallocated in this very step: a connector must make its workers fence (finish or
     * cancel) any copy still reading or writing those blocks in {@code
     * WorkerConnector.handlePreemptions}, which runs before the step's forward pass.
     */
    Set<String> preemptedRequestIds();

    /**
     * {@return the requests that finished since the previous step was scheduled} Whether they
     * finished with a step's output, by an abort between steps or by a failure while this step was
     * scheduled; each appears in exactly one step's set, and the workers get the same set in
     * {@code WorkerConnector.reportStep}.
     */
    Set<String> finishedRequestIds();

    /** {@return sum of {@link ScheduledRequest#numScheduledTokens()} over the step} */
    int totalScheduledTokens();
}
