package io.kvconnect.core.sched;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import org.jspecify.annotations.Nullable;

/**
 * The one place that calls the scheduler side of the connector, and the policy for its failures.
 *
 * <p>Every call goes through a {@link HookGuard}: whatever a hook throws, and a call past the hook
 * timeout, is contained and counted ({@link SchedulerStats#hookFailures()}), and the method returns
 * the documented failure value ({@code null} or {@code false}); the caller decides what the
 * failure means for the requests involved, with {@link #failureReason} as their reason. Under
 * {@code connector_errors: disable} a failure here, or one the workers report ({@link
 * #workerHooksFailed}), also asks for the connector to be detached ({@link #disableRequested()});
 * the engine does that after the step, once the worker sides are shut down ({@link #detach()}).
 *
 * <p>Callers ask {@link #attached()} before a call whose absence changes what they do; the hook
 * methods must not be called while nothing is attached.
 *
 * <p><b>Thread.</b> Engine thread only (the scheduler's); never called from a worker.
 */
final class ConnectorCalls {
    private final String name;
    private final ConnectorErrorPolicy errors;
    private final SchedulerStats stats;
    private final HookGuard guard;
    /** The timer started here when the engine shares none (closed at shutdown), or {@code null}. */
    private final @Nullable HookTimer ownTimer;
    /** The connector, or {@code null} without one or once detached. */
    private @Nullable SchedulerConnector connector;

    private boolean disableRequested;
    /** The last worker-side hook failure, for messages about giving up on the connector; {@code null} before one. */
    private @Nullable String lastWorkerHookFailure;

    /**
     * @param connector the scheduler side, or {@code null} for none
     * @param name the connector's name for messages, or {@code null} for none
     * @param config the hook timeout and the connector error policy
     * @param sharedTimer the engine's hook timer (shared with the workers), or {@code null}: one is
     *     started here if there is a connector
     * @param stats where failures are counted
     */
    ConnectorCalls(
            @Nullable SchedulerConnector connector,
            @Nullable String name,
            SchedulerConfig config,
            @Nullable HookTimer sharedTimer,
            SchedulerStats stats) {
        this.name = name == null ? "none" : name;
        this.errors = config.connectorErrors();
        this.stats = stats;
        this.connector = connector;
        this.ownTimer = sharedTimer == null && connector != null
                ? new HookTimer(this.name, config.hookTimeout().toNanos())
                : null;
        this.guard = new HookGuard(this.name, this::hookFailed, sharedTimer == null ? ownTimer : sharedTimer);
    }

    private void hookFailed() {
        stats.hookFailures++;
        if (errors == ConnectorErrorPolicy.DISABLE) {
            disableRequested = true;
        }
    }

    /** Whether a connector is attached (there is one and it was not detached). */
    boolean attached() {
        return connector != null;
    }

    /**
     * The attached scheduler side, for the hook calls below.
     *
     * @throws NullPointerException if none is attached: a caller must ask {@link #attached()} first
     */
    private SchedulerConnector attachedSide() {
        return Objects.requireNonNull(connector, "no connector attached");
    }

    /** The connector's name, {@code "none"} without one. */
    String name() {
        return name;
    }

    /** A reason naming {@code hook} and its last failure, for the requests a failed call fails. */
    String failureReason(ConnectorHook hook) {
        return guard.reason(hook);
    }

    // ------------------------------------------------------------------ hooks, in the order of a request's life

    void bindSchedulerState(SchedulerState state) {
        guard.run(ConnectorHook.BIND_SCHEDULER_STATE, () -> attachedSide().bindSchedulerState(state));
    }

    void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        guard.run(ConnectorHook.SET_HANDSHAKE_METADATA, () -> attachedSide().setHandshakeMetadata(byRank));
    }

    /** The connector's expected count of worker reports per finished transfer; empty if the call failed. */
    OptionalInt expectedFinishedCount() {
        OptionalInt n = guard.call(ConnectorHook.EXPECTED_FINISHED_COUNT, attachedSide()::expectedFinishedCount);
        return n == null ? OptionalInt.empty() : n;
    }

    /** {@code false} if the call failed. */
    boolean onNewRequest(RequestView request) {
        return guard.run(ConnectorHook.ON_NEW_REQUEST, () -> attachedSide().onNewRequest(request));
    }

    /** {@code null} if the call failed. */
    @Nullable
    MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        return guard.call(ConnectorHook.GET_NUM_NEW_MATCHED_TOKENS, () -> attachedSide()
                .getNumNewMatchedTokens(request, localHitTokens));
    }

    /** {@code false} if the call failed. */
    boolean updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        return guard.run(ConnectorHook.UPDATE_STATE_AFTER_ALLOC, () -> attachedSide()
                .updateStateAfterAlloc(request, blocks, localHitTokens, externalTokens));
    }

    /** {@code null} if the call failed. */
    @Nullable
    ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        return guard.call(
                ConnectorHook.BUILD_CONNECTOR_METADATA, () -> attachedSide().buildConnectorMetadata(output));
    }

    void updateConnectorOutput(ConnectorOutput output) {
        guard.run(ConnectorHook.UPDATE_CONNECTOR_OUTPUT, () -> attachedSide().updateConnectorOutput(output));
    }

    /** {@code null} if the call failed. */
    @Nullable
    FinishResult requestFinished(RequestView request, BlockIds blocks) {
        return guard.call(ConnectorHook.REQUEST_FINISHED, () -> attachedSide().requestFinished(request, blocks));
    }

    /**
     * An immutable copy of the connector's events, made inside the call: the list is the
     * connector's, and reading it (elements that throw, a null element, a list the connector
     * changes later) fails this call, not the step that applies the events. {@code null} if the
     * call failed.
     */
    @Nullable
    List<KvEvent> takeEvents() {
        return guard.call(ConnectorHook.TAKE_EVENTS, () -> {
            List<KvEvent> events = attachedSide().takeEvents();
            return events == null ? null : List.copyOf(events);
        });
    }

    /** {@code null} if the call failed. */
    @Nullable
    Optional<ConnectorStats> takeStats() {
        return guard.call(ConnectorHook.TAKE_STATS, attachedSide()::takeStats);
    }

    /** {@code null} if the call failed. */
    @Nullable
    Boolean hasPendingWork() {
        return guard.call(ConnectorHook.HAS_PENDING_WORK, attachedSide()::hasPendingWork);
    }

    // ------------------------------------------------------------------ failures and detaching

    /**
     * Counts worker-side hook calls that threw in a step, like scheduler-side ones: under {@code
     * connector_errors: disable} they also ask for the connector to be detached.
     *
     * @param calls how many calls failed
     * @param firstFailure the first, with its rank and step, for later messages
     */
    void workerHooksFailed(int calls, String firstFailure) {
        if (calls <= 0 || connector == null) {
            return;
        }
        lastWorkerHookFailure = firstFailure;
        stats.hookFailures += calls;
        if (errors == ConnectorErrorPolicy.DISABLE) {
            disableRequested = true;
        }
    }

    /** {@code " after <the last worker hook failure>"}, or empty if none failed. */
    String lastWorkerHookFailureNote() {
        return lastWorkerHookFailure == null ? "" : " after " + lastWorkerHookFailure;
    }

    /** The connector made no progress for too long under {@code connector_errors: disable}. */
    void requestDisable() {
        disableRequested = true;
    }

    /** Whether a failure asked for the connector to be detached and it is still attached. */
    boolean disableRequested() {
        return disableRequested && connector != null;
    }

    /**
     * Detaches the connector and shuts its scheduler side down (a failing {@code shutdown} is
     * contained). Call only after every worker side was shut down.
     *
     * @return whether one was attached
     */
    boolean detach() {
        SchedulerConnector c = connector;
        if (c == null) {
            return false;
        }
        // Detached before its shutdown runs: whatever that call does, nothing calls it again.
        connector = null;
        stats.connectorDisabled = true;
        guard.run(ConnectorHook.SHUTDOWN, c::shutdown);
        return true;
    }

    /** Shuts the scheduler side down at the engine's end (if attached) and stops a timer started here. */
    void shutdown() {
        if (connector != null) {
            guard.run(ConnectorHook.SHUTDOWN, connector::shutdown);
        }
        if (ownTimer != null) {
            ownTimer.close();
        }
    }
}
