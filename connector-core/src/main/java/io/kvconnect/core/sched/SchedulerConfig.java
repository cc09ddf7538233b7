package io.kvconnect.core.sched;

import java.util.Objects;

/**
 * The scheduler's limits and modes.
 *
 * @param maxBatchedTokens token budget of one step
 * @param maxRunningRequests most requests running at once
 * @param longPrefillChunk most prompt tokens of one request in one step (chunked prefill)
 * @param policy admission and preemption order
 * @param asyncScheduling whether the next step is scheduled before the previous step's output is
 *     processed
 * @param loadFailurePolicy what a failed external KV load does to its request
 * @param connectorErrors what a throwing connector hook does
 */
public record SchedulerConfig(int maxBatchedTokens, int maxRunningRequests, int longPrefillChunk,
                              SchedulingPolicy policy, boolean asyncScheduling,
                              LoadFailurePolicy loadFailurePolicy, ConnectorErrorPolicy connectorErrors) {
    /** Validates. */
    public SchedulerConfig {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(loadFailurePolicy, "loadFailurePolicy");
        Objects.requireNonNull(connectorErrors, "connectorErrors");
        if (maxBatchedTokens <= 0 || maxRunningRequests <= 0 || longPrefillChunk <= 0) {
            throw new IllegalArgumentException("scheduler limits must be positive");
        }
    }

    /** A configuration where a throwing hook fails the requests it was about (the default). */
    public SchedulerConfig(int maxBatchedTokens, int maxRunningRequests, int longPrefillChunk, SchedulingPolicy policy,
                           boolean asyncScheduling, LoadFailurePolicy loadFailurePolicy) {
        this(maxBatchedTokens, maxRunningRequests, longPrefillChunk, policy, asyncScheduling, loadFailurePolicy,
                ConnectorErrorPolicy.FAIL_REQUESTS);
    }

    /** Defaults shaped like the reference engine's on one GPU. */
    public static SchedulerConfig defaults() {
        return new SchedulerConfig(2048, 256, 2048, SchedulingPolicy.FCFS, false, LoadFailurePolicy.FAIL);
    }

    /** A copy with another load failure policy. */
    public SchedulerConfig withLoadFailurePolicy(LoadFailurePolicy p) {
        return new SchedulerConfig(maxBatchedTokens, maxRunningRequests, longPrefillChunk, policy, asyncScheduling, p,
                connectorErrors);
    }

    /** A copy with another connector error policy. */
    public SchedulerConfig withConnectorErrors(ConnectorErrorPolicy p) {
        return new SchedulerConfig(maxBatchedTokens, maxRunningRequests, longPrefillChunk, policy, asyncScheduling,
                loadFailurePolicy, p);
    }
}
