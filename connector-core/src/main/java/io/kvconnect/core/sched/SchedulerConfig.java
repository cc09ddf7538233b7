package io.kvconnect.core.sched;

import io.kvconnect.core.kv.ConnectorBlockView;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalInt;

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
 * @param loadFailureWindow how many steps after a load a connector may still report it failed
 *     and the engine still keeps every consequence of the wrong KV away from the client, the
 *     prefix cache and connectors: what a request computes from loaded KV is held back that long
 *     (0: reports must come with the step's own output, as the API asks)
 * @param connectorTimeout how long the engine waits for a connector that makes no progress: a
 *     load or send it never finishes, or pending work it never completes while nothing else runs;
 *     then it gives up what the connector holds under {@code connectorErrors}
 * @param hookTimeout how long one call of a connector hook may run; a call past it is interrupted
 *     and counts as a failed hook under {@code connectorErrors}
 * @param connectorBlockReferences the most GPU block references the connector may hold at once
 *     through its {@code GPUBlockPoolView}, in {@code [1, 2^30]}; empty for the default, half the
 *     usable blocks (see {@link ConnectorBlockView#defaultMaxReferences})
 */
public record SchedulerConfig(
        int maxBatchedTokens,
        int maxRunningRequests,
        int longPrefillChunk,
        SchedulingPolicy policy,
        boolean asyncScheduling,
        LoadFailurePolicy loadFailurePolicy,
        ConnectorErrorPolicy connectorErrors,
        int loadFailureWindow,
        Duration connectorTimeout,
        Duration hookTimeout,
        OptionalInt connectorBlockReferences) {
    /** The default {@link #loadFailureWindow()}: one step late is tolerated. */
    public static final int DEFAULT_LOAD_FAILURE_WINDOW = 1;
    /** The default {@link #connectorTimeout()}: above every bundled connector's own leases and timeouts. */
    public static final Duration DEFAULT_CONNECTOR_TIMEOUT = Duration.ofSeconds(120);
    /** The default {@link #hookTimeout()}: far beyond any hook that does its work as the API asks. */
    public static final Duration DEFAULT_HOOK_TIMEOUT = Duration.ofSeconds(30);
    /** The largest {@link #loadFailureWindow()}. */
    public static final int MAX_LOAD_FAILURE_WINDOW = 16;

    /** Validates. */
    public SchedulerConfig {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(loadFailurePolicy, "loadFailurePolicy");
        Objects.requireNonNull(connectorErrors, "connectorErrors");
        Objects.requireNonNull(connectorTimeout, "connectorTimeout");
        Objects.requireNonNull(hookTimeout, "hookTimeout");
        Objects.requireNonNull(connectorBlockReferences, "connectorBlockReferences");
        if (hookTimeout.isNegative() || hookTimeout.isZero()) {
            throw new IllegalArgumentException("hook timeout must be positive, got " + hookTimeout);
        }
        if (maxBatchedTokens <= 0 || maxRunningRequests <= 0 || longPrefillChunk <= 0) {
            throw new IllegalArgumentException("scheduler limits must be positive");
        }
        if (loadFailureWindow < 0 || loadFailureWindow > MAX_LOAD_FAILURE_WINDOW) {
            throw new IllegalArgumentException("load failure window must be in [0, " + MAX_LOAD_FAILURE_WINDOW
                    + "] steps, got " + loadFailureWindow);
        }
        if (connectorTimeout.isNegative() || connectorTimeout.isZero()) {
            throw new IllegalArgumentException("connector timeout must be positive, got " + connectorTimeout);
        }
        int references = connectorBlockReferences.orElse(1);
        if (references < 1 || references > ConnectorBlockView.MAX_REFERENCES_LIMIT) {
            throw new IllegalArgumentException("connector block references must be in [1, "
                    + ConnectorBlockView.MAX_REFERENCES_LIMIT + "], got " + references);
        }
    }

    /** A configuration with the default hook timeout and cap on the connector's block references. */
    public SchedulerConfig(
            int maxBatchedTokens,
            int maxRunningRequests,
            int longPrefillChunk,
            SchedulingPolicy policy,
            boolean asyncScheduling,
            LoadFailurePolicy loadFailurePolicy,
            ConnectorErrorPolicy connectorErrors,
            int loadFailureWindow,
            Duration connectorTimeout) {
        this(
                maxBatchedTokens,
                maxRunningRequests,
                longPrefillChunk,
                policy,
                asyncScheduling,
                loadFailurePolicy,
                connectorErrors,
                loadFailureWindow,
                connectorTimeout,
                DEFAULT_HOOK_TIMEOUT,
                OptionalInt.empty());
    }

    /** A configuration with the default window and timeout. */
    public SchedulerConfig(
            int maxBatchedTokens,
            int maxRunningRequests,
            int longPrefillChunk,
            SchedulingPolicy policy,
            boolean asyncScheduling,
            LoadFailurePolicy loadFailurePolicy,
            ConnectorErrorPolicy connectorErrors) {
        this(
                maxBatchedTokens,
                maxRunningRequests,
                longPrefillChunk,
                policy,
                asyncScheduling,
                loadFailurePolicy,
                connectorErrors,
                DEFAULT_LOAD_FAILURE_WINDOW,
                DEFAULT_CONNECTOR_TIMEOUT);
    }

    /** A configuration where a throwing hook fails the requests it was about (the default). */
    public SchedulerConfig(
            int maxBatchedTokens,
            int maxRunningRequests,
            int longPrefillChunk,
            SchedulingPolicy policy,
            boolean asyncScheduling,
            LoadFailurePolicy loadFailurePolicy) {
        this(
                maxBatchedTokens,
                maxRunningRequests,
                longPrefillChunk,
                policy,
                asyncScheduling,
                loadFailurePolicy,
                ConnectorErrorPolicy.FAIL_REQUESTS);
    }

    /** Defaults shaped like the reference engine's on one GPU. */
    public static SchedulerConfig defaults() {
        return new SchedulerConfig(2048, 256, 2048, SchedulingPolicy.FCFS, false, LoadFailurePolicy.FAIL);
    }

    /** A copy with another load failure policy. */
    public SchedulerConfig withLoadFailurePolicy(LoadFailurePolicy p) {
        return new SchedulerConfig(
                maxBatchedTokens,
                maxRunningRequests,
                longPrefillChunk,
                policy,
                asyncScheduling,
                p,
                connectorErrors,
                loadFailureWindow,
                connectorTimeout,
                hookTimeout,
                connectorBlockReferences);
    }

    /** A copy with another connector error policy. */
    public SchedulerConfig withConnectorErrors(ConnectorErrorPolicy p) {
        return new SchedulerConfig(
                maxBatchedTokens,
                maxRunningRequests,
                longPrefillChunk,
                policy,
                asyncScheduling,
                loadFailurePolicy,
                p,
                loadFailureWindow,
                connectorTimeout,
                hookTimeout,
                connectorBlockReferences);
    }

    /** A copy with another load failure window. */
    public SchedulerConfig withLoadFailureWindow(int steps) {
        return new SchedulerConfig(
                maxBatchedTokens,
                maxRunningRequests,
                longPrefillChunk,
                policy,
                asyncScheduling,
                loadFailurePolicy,
                connectorErrors,
                steps,
                connectorTimeout,
                hookTimeout,
                connectorBlockReferences);
    }

    /** A copy with another connector timeout. */
    public SchedulerConfig withConnectorTimeout(Duration timeout) {
        return new SchedulerConfig(
                maxBatchedTokens,
                maxRunningRequests,
                longPrefillChunk,
                policy,
                asyncScheduling,
                loadFailurePolicy,
                connectorErrors,
                loadFailureWindow,
                timeout,
                hookTimeout,
                connectorBlockReferences);
    }

    /** A copy with another cap on the connector's block references. */
    public SchedulerConfig withConnectorBlockReferences(int references) {
        return new SchedulerConfig(
                maxBatchedTokens,
                maxRunningRequests,
                longPrefillChunk,
                policy,
                asyncScheduling,
                loadFailurePolicy,
                connectorErrors,
                loadFailureWindow,
                connectorTimeout,
                hookTimeout,
                OptionalInt.of(references));
    }

    /** A copy with another hook timeout. */
    public SchedulerConfig withHookTimeout(Duration timeout) {
        return new SchedulerConfig(
                maxBatchedTokens,
                maxRunningRequests,
                longPrefillChunk,
                policy,
                asyncScheduling,
                loadFailurePolicy,
                connectorErrors,
                loadFailureWindow,
                connectorTimeout,
                timeout,
                connectorBlockReferences);
    }
}
