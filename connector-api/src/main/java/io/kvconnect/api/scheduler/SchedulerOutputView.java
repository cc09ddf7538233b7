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
     * {@return how many requests are computed in this step: the size of {@link #scheduledRequests()}}
     *
     * <p>This and the other {@code ...At(index)} methods read entry {@code index} of {@link
     * #scheduledRequests()} field by field, without building the {@link ScheduledRequest}: a
     * connector that looks at every scheduled request in every step makes no object per request
     * this way (the engine's list builds each entry on first read, an object of about 40 bytes).
     * They return what the entry's accessors return, refuse the same indexes ({@link
     * IndexOutOfBoundsException}) and are valid as long as the entries are (see the class comment).
     * The defaults read the list; an implementation may answer without building entries.
     *
     * @since 0.2
     */
    default int numScheduledRequests() {
        return scheduledRequests().size();
    }

    /**
     * {@return {@code scheduledRequests().get(index).request()}, without building the entry} See
     * {@link #numScheduledRequests()}.
     *
     * @param index the entry, in {@code [0, numScheduledRequests())}
     * @since 0.2
     */
    default RequestView requestAt(int index) {
        return scheduledRequests().get(index).request();
    }

    /**
     * {@return {@code scheduledRequests().get(index).kind()}, without building the entry} See
     * {@link #numScheduledRequests()}.
     *
     * @param index the entry, in {@code [0, numScheduledRequests())}
     * @since 0.2
     */
    default ScheduledRequest.Kind kindAt(int index) {
        return scheduledRequests().get(index).kind();
    }

    /**
     * {@return {@code scheduledRequests().get(index).numScheduledTokens()}, without building the
     * entry} See {@link #numScheduledRequests()}.
     *
     * @param index the entry, in {@code [0, numScheduledRequests())}
     * @since 0.2
     */
    default int numScheduledTokensAt(int index) {
        return scheduledRequests().get(index).numScheduledTokens();
    }

    /**
     * {@return {@code scheduledRequests().get(index).numComputedTokensBefore()}, without building the
     * entry} See {@link #numScheduledRequests()}.
     *
     * @param index the entry, in {@code [0, numScheduledRequests())}
     * @since 0.2
     */
    default int numComputedTokensBeforeAt(int index) {
        return scheduledRequests().get(index).numComputedTokensBefore();
    }

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
