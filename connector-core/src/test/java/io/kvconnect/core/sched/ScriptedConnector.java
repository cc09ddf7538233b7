package io.kvconnect.core.sched;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Function;

/**
 * A scheduler-side connector whose answers a test sets: what it offers each request, whether it
 * delays frees, which hooks throw. It records every call as {@code "hook id"} (or {@code "hook"}).
 */
final class ScriptedConnector implements SchedulerConnector {
    final List<String> calls = new ArrayList<>();
    /** What {@code getNumNewMatchedTokens} answers for a request. */
    Function<RequestView, MatchResult> offer = r -> MatchResult.none();
    /** Whether {@code requestFinished} delays the free (a send follows). */
    boolean delayFree;
    /** Hooks that throw. */
    final Set<ConnectorHook> throwing = EnumSet.noneOf(ConnectorHook.class);

    boolean pendingWork;
    OptionalInt expectedFinishedCount = OptionalInt.empty();
    List<KvEvent> events = List.of();
    Optional<ConnectorStats> stats = Optional.empty();
    final List<ConnectorOutput> outputs = new ArrayList<>();
    SchedulerState state;

    private void call(ConnectorHook hook, String detail) {
        calls.add(detail == null ? hook.toString() : hook + " " + detail);
        if (throwing.contains(hook)) {
            throw new IllegalStateException(hook + " broke");
        }
    }

    @Override
    public void bindSchedulerState(SchedulerState s) {
        call(ConnectorHook.BIND_SCHEDULER_STATE, null);
        state = s;
    }

    @Override
    public void onNewRequest(RequestView request) {
        call(ConnectorHook.ON_NEW_REQUEST, request.requestId());
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        call(ConnectorHook.GET_NUM_NEW_MATCHED_TOKENS, request.requestId());
        return offer.apply(request);
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        call(ConnectorHook.UPDATE_STATE_AFTER_ALLOC, request.requestId() + " " + externalTokens);
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        call(ConnectorHook.BUILD_CONNECTOR_METADATA, null);
        return ConnectorMetadata.NONE;
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        call(ConnectorHook.UPDATE_CONNECTOR_OUTPUT, null);
        outputs.add(output);
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        call(ConnectorHook.REQUEST_FINISHED, request.requestId());
        return delayFree ? FinishResult.delayFree(TransferParams.empty()) : FinishResult.freeNow();
    }

    @Override
    public List<KvEvent> takeEvents() {
        call(ConnectorHook.TAKE_EVENTS, null);
        return events;
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        call(ConnectorHook.TAKE_STATS, null);
        return stats;
    }

    @Override
    public OptionalInt expectedFinishedCount() {
        call(ConnectorHook.EXPECTED_FINISHED_COUNT, null);
        return expectedFinishedCount;
    }

    @Override
    public boolean hasPendingWork() {
        call(ConnectorHook.HAS_PENDING_WORK, null);
        return pendingWork;
    }

    @Override
    public void shutdown() {
        call(ConnectorHook.SHUTDOWN, null);
    }

    /** The recorded calls of {@code hook}. */
    List<String> callsOf(ConnectorHook hook) {
        return calls.stream()
                .filter(c -> c.equals(hook.toString()) || c.startsWith(hook + " "))
                .toList();
    }
}
