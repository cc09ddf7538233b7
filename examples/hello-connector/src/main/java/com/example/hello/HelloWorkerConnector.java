package com.example.hello;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The worker side of the {@code hello} connector: one per rank. It records the KV layout and counts
 * the steps it sees; it starts no copy, so it never reports a finished transfer.
 *
 * <p>All hooks run on this worker's thread one at a time, and no state is shared with other
 * workers or with the scheduler side, so plain fields suffice.
 */
final class HelloWorkerConnector implements WorkerConnector {
    static final String STEPS_SEEN = "steps_seen";

    private static final System.Logger LOG = System.getLogger(HelloWorkerConnector.class.getName());

    private final HelloSettings settings;
    private final String instanceName;
    private final int rank;

    private long bytesPerBlock = -1;
    private HelloMetadata bound;
    private long stepsSeen;
    private long stepsSinceStats;

    HelloWorkerConnector(HelloSettings settings, String instanceName, int rank) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.instanceName = Objects.requireNonNull(instanceName, "instanceName");
        this.rank = rank;
    }

    /** Records the layout; keeps no reference to {@code copies}, since it moves nothing. */
    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copies) {
        Objects.requireNonNull(layout, "layout");
        bytesPerBlock = layout.bytesPerBlock();
        LOG.log(Level.DEBUG, "[{0}] {1} rank {2}: {3} KV blocks of {4} bytes ({5}, {6})", settings.label(),
                instanceName, rank, layout.numBlocks(), bytesPerBlock, layout.layout(), layout.memory());
    }

    /**
     * Takes this step's metadata and counts the step.
     *
     * @throws IllegalArgumentException if {@code metadata} is not this connector's {@link HelloMetadata}
     */
    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        if (!(metadata instanceof HelloMetadata hello)) {
            throw new IllegalArgumentException("hello connector expects " + HelloMetadata.class.getName()
                    + " from its scheduler side, got " + (metadata == null ? "null" : metadata.getClass().getName()));
        }
        bound = hello;
        stepsSeen++;
        stepsSinceStats++;
    }

    @Override
    public void startLoadKv() {
        // Nothing to load.
    }

    /**
     * The step's report: no finished transfer (it starts none), {@value #STEPS_SEEN} since the
     * previous report (then zero; no stats when no step was seen), and the steps seen so far as the
     * worker metadata.
     */
    @Override
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        long steps = stepsSinceStats;
        stepsSinceStats = 0;
        return WorkerStepReport.builder()
                .stats(steps == 0 ? Optional.empty() : Optional.of(CounterStats.of(STEPS_SEEN, steps)))
                .workerMetadata(Optional.of(new HelloWorkerMetadata(stepsSeen)))
                .build();
    }

    @Override
    public void clearConnectorMetadata() {
        bound = null;
    }

    /** Bytes of one block across all layers, or -1 before {@link #registerKvCaches}. */
    long bytesPerBlock() {
        return bytesPerBlock;
    }

    /** The metadata bound for the current step, if any. */
    Optional<HelloMetadata> boundMetadata() {
        return Optional.ofNullable(bound);
    }

    @Override
    public String toString() {
        return "HelloWorkerConnector[" + settings.label() + " at " + instanceName + ", rank " + rank + "]";
    }
}
