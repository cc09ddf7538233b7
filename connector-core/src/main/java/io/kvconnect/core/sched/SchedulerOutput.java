package io.kvconnect.core.sched;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.core.kv.GrantChanges;
import java.util.AbstractList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One step's scheduling decisions: what connectors see ({@link SchedulerOutputView}) and what the
 * workers compute ({@link #work()}).
 */
public final class SchedulerOutput implements SchedulerOutputView {
    private final long step;
    private final List<Request> requests;
    private final List<ScheduledWork> work;
    private final List<ScheduledRequest> scheduled = new ScheduledRequests();
    private final Set<String> preempted;
    private final Set<String> finished;
    private final int totalTokens;
    private ConnectorMetadata metadata = ConnectorMetadata.NONE;
    private List<String> startedAsyncLoads = List.of();
    private Map<String, int[]> asyncLoadBlocks = Map.of();
    private boolean connectorDisableRequested;
    private GrantChanges grantChanges = GrantChanges.NONE;

    /**
     * Takes the planner's lists as they are, read-only, without copying them: copying 256 entries
     * twice per step is measurable in the step time. The planner does not touch them again until
     * it plans the step after next (it keeps a pair of lists per step parity, see {@link
     * ScheduledWork}); by then this step was applied and nobody reads this output, and if someone
     * does, {@link #work()} and the connectors' entries refuse (the size is taken now, and every
     * entry read is checked to be this step's). The sets are copied (the planner reuses its own),
     * unless empty.
     *
     * @param requests the scheduled requests, entry by entry as in {@code work}, or empty for a
     *     step that only workers read
     */
    SchedulerOutput(
            long step,
            List<Request> requests,
            List<ScheduledWork> work,
            Set<String> preempted,
            Set<String> finished,
            int totalTokens) {
        // No requests at all: a step built for the workers alone (tests that drive the model
        // without a scheduler); then neither connectors nor the scheduler read entries of it.
        if (!requests.isEmpty() && requests.size() != work.size()) {
            throw new IllegalArgumentException(requests.size() + " requests but " + work.size() + " work entries");
        }
        this.step = step;
        this.requests = requests;
        this.work = new StepWork(work, work.size());
        this.preempted = preempted.isEmpty() ? Set.of() : Set.copyOf(preempted);
        this.finished = finished.isEmpty() ? Set.of() : Set.copyOf(finished);
        this.totalTokens = totalTokens;
    }

    @Override
    public long step() {
        return step;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Each entry is built from the step's work entry and request when it is first read, and is
     * the same object after that; the list's size costs nothing. The engine itself reads the work
     * entries, so a step whose connector reads no entry (or that has no connector) allocates no
     * {@link ScheduledRequest} at all. Read it on the scheduler thread only, as the view's contract
     * says.
     */
    @Override
    public List<ScheduledRequest> scheduledRequests() {
        return scheduled;
    }

    /** The request of the work entry at {@code index} (the engine's own object: no lookup by id). */
    Request request(int index) {
        work.get(index); // checks the entry is still this step's
        return requests.get(index);
    }

    /**
     * {@link #request(int)} without checking the entry again: only for a caller that has just read
     * {@code work().get(index)} of this output, which checked it, with nothing planned since.
     */
    Request requestOfCheckedEntry(int index) {
        return requests.get(index);
    }

    /** Without building the list's entry: the size the step had when it was planned. */
    @Override
    public int numScheduledRequests() {
        return work.size();
    }

    /** From the step's own request, without building the list's entry; refused as the entry would be. */
    @Override
    public RequestView requestAt(int index) {
        return request(index);
    }

    /** From the work entry, without building the list's entry; refused as the entry would be. */
    @Override
    public ScheduledRequest.Kind kindAt(int index) {
        return work.get(index).kind();
    }

    /** From the work entry, without building the list's entry; refused as the entry would be. */
    @Override
    public int numScheduledTokensAt(int index) {
        return work.get(index).numTokens();
    }

    /** From the work entry, without building the list's entry; refused as the entry would be. */
    @Override
    public int numComputedTokensBeforeAt(int index) {
        return work.get(index).start();
    }

    @Override
    public Set<String> preemptedRequestIds() {
        return preempted;
    }

    @Override
    public Set<String> finishedRequestIds() {
        return finished;
    }

    @Override
    public int totalScheduledTokens() {
        return totalTokens;
    }

    /**
     * The workers' part, in the same order as {@link #scheduledRequests()}; read-only. Valid until
     * the step after next is planned (see {@link ScheduledWork}): an entry read later throws {@link
     * IllegalStateException}.
     */
    public List<ScheduledWork> work() {
        return work;
    }

    /** The connector's metadata for this step ({@link ConnectorMetadata#NONE} without a connector). */
    public ConnectorMetadata connectorMetadata() {
        return metadata;
    }

    void setConnectorMetadata(ConnectorMetadata m) {
        metadata = m;
    }

    /**
     * Requests whose asynchronous loads start in this step: their orders are in this step's
     * connector metadata, so a worker that loses the metadata loses their loads.
     */
    public List<String> startedAsyncLoads() {
        return startedAsyncLoads;
    }

    void setStartedAsyncLoads(List<String> ids) {
        startedAsyncLoads = ids.isEmpty() ? List.of() : List.copyOf(ids);
    }

    /**
     * The GPU blocks each asynchronous load started in this step must fill (its external range),
     * by request: a worker checks them filled when the connector reports the load finished. The
     * arrays must not be changed.
     */
    public Map<String, int[]> asyncLoadBlocks() {
        return asyncLoadBlocks;
    }

    void setAsyncLoadBlocks(Map<String, int[]> blocks) {
        asyncLoadBlocks = Map.copyOf(blocks);
    }

    /**
     * Whether a connector hook failed under {@code connector_errors: disable} (or the connector
     * stalled) before this step was scheduled or while it was: the engine detaches the connector
     * once the step ran, even if no step output is applied in the same engine step.
     */
    public boolean connectorDisableRequested() {
        return connectorDisableRequested;
    }

    void setConnectorDisableRequested(boolean requested) {
        connectorDisableRequested = requested;
    }

    /**
     * The changes to which blocks connectors may copy, made up to the scheduling of this step and
     * after the previous one's: each worker applies them when it begins this step (see {@link
     * io.kvconnect.core.kv.GrantLedger}).
     *
     * @throws IllegalStateException if the step after next has been planned: the changes were
     *     refilled for it (see {@link GrantChanges})
     */
    public GrantChanges grantChanges() {
        GrantChanges c = grantChanges;
        if (c.step() != step && c.step() != GrantChanges.ANY_STEP) {
            throw new IllegalStateException("step " + step + "'s grant changes were read after the step after next"
                    + " was planned; a step's output is valid only until then");
        }
        return c;
    }

    void setGrantChanges(GrantChanges changes) {
        grantChanges = changes;
    }

    /** Whether the workers have anything to compute. */
    public boolean hasWork() {
        return !work.isEmpty();
    }

    /**
     * The planner's list of this step's work, read-only, with the size it had when the step was
     * planned, refusing entries refilled for a later step.
     */
    private final class StepWork extends AbstractList<ScheduledWork> implements RandomAccess {
        private final List<ScheduledWork> entries;
        private final int size;

        StepWork(List<ScheduledWork> entries, int size) {
            this.entries = entries;
            this.size = size;
        }

        @Override
        public ScheduledWork get(int index) {
            Objects.checkIndex(index, size);
            // Refilled for a later step: shorter now, or another step's entry at this index.
            ScheduledWork w = index < entries.size() ? entries.get(index) : null;
            if (w == null || (w.step() != step && w.step() != ScheduledWork.ANY_STEP)) {
                throw new IllegalStateException("step " + step + "'s output was read after the step after next"
                        + " was planned; a step's output is valid only until then");
            }
            return w;
        }

        @Override
        public int size() {
            return size;
        }
    }

    /** The connectors' entries, built on first read (see {@link #scheduledRequests()}). */
    private final class ScheduledRequests extends AbstractList<ScheduledRequest> implements RandomAccess {
        private ScheduledRequest @Nullable [] built;

        @Override
        public ScheduledRequest get(int index) {
            Objects.checkIndex(index, work.size());
            ScheduledRequest[] entries = built;
            if (entries == null) {
                entries = new ScheduledRequest[work.size()];
                built = entries;
            }
            ScheduledRequest entry = entries[index];
            if (entry == null) {
                ScheduledWork w = work.get(index);
                entry = new ScheduledRequest(
                        requests.get(index),
                        w.kind(),
                        w.numTokens(),
                        w.start(),
                        w.numBlocks() == 0 ? BlockIds.empty() : BlockIds.of(w.blockTable()));
                entries[index] = entry;
            }
            return entry;
        }

        @Override
        public int size() {
            return work.size();
        }
    }
}
