package com.example.hello;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.Optional;

/**
 * The scheduler side of the {@code hello} connector: counts what it is shown and never offers KV.
 *
 * <p>All hooks run on the engine's scheduler thread one at a time, so plain fields suffice.
 */
final class HelloSchedulerConnector implements SchedulerConnector {
    static final String REQUESTS_SEEN = "requests_seen";
    static final String LOOKUPS = "lookups";
    static final String LOCAL_HIT_TOKENS = "local_hit_tokens";
    static final String REQUESTS_FINISHED = "requests_finished";

    private static final System.Logger LOG = System.getLogger(HelloSchedulerConnector.class.getName());

    private final HelloSettings settings;
    private final String instanceName;

    // Counts since the previous takeStats().
    private long requestsSeen;
    private long lookups;
    private long localHitTokens;
    private long requestsFinished;
    // Total worker-steps, as last reported by the workers' metadata.
    private long workerStepsSeen;

    HelloSchedulerConnector(HelloSettings settings, String instanceName) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.instanceName = Objects.requireNonNull(instanceName, "instanceName");
        LOG.log(Level.DEBUG, "[{0}] hello connector at {1} is auditing prefix lookups", settings.label(), instanceName);
    }

    @Override
    public void onNewRequest(RequestView request) {
        requestsSeen++;
    }

    /** Counts the lookup and the tokens the GPU prefix cache already had; provides no KV. */
    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        lookups++;
        this.localHitTokens += localHitTokens;
        return MatchResult.none();
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        // Nothing to load: this connector never promises external tokens.
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        return new HelloMetadata(output.step(), output.scheduledRequests().size());
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        output.workerMetadata().ifPresent(m -> {
            if (m instanceof HelloWorkerMetadata hello) {
                workerStepsSeen = hello.stepsSeen();
            }
        });
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        requestsFinished++;
        return FinishResult.freeNow();
    }

    /** The counts since the previous call, then zero; empty when nothing was counted. */
    @Override
    public Optional<ConnectorStats> takeStats() {
        var stats = CounterStats.of(
                REQUESTS_SEEN, requestsSeen,
                LOOKUPS, lookups,
                LOCAL_HIT_TOKENS, localHitTokens,
                REQUESTS_FINISHED, requestsFinished);
        requestsSeen = 0;
        lookups = 0;
        localHitTokens = 0;
        requestsFinished = 0;
        return stats.isEmpty() ? Optional.empty() : Optional.of(stats);
    }

    /** Total steps seen by all workers, from the last aggregated worker metadata. */
    long workerStepsSeen() {
        return workerStepsSeen;
    }

    @Override
    public void shutdown() {
        LOG.log(Level.INFO, "[{0}] hello connector at {1} stopped; workers saw {2} steps in all",
                settings.label(), instanceName, workerStepsSeen);
    }

    @Override
    public String toString() {
        return "HelloSchedulerConnector[" + settings.label() + " at " + instanceName + "]";
    }
}
