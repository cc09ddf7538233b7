package io.kvconnect.multi;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ResetResult;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A scriptable child scheduler side for unit tests: answers what the test sets, records every
 * call (hook name, then request id and argument where there is one) and throws from the hooks
 * named in {@link #throwIn}.
 */
final class FakeScheduler implements SchedulerConnector {
    final String name;
    final List<String> calls = new ArrayList<>();
    final Set<String> throwIn = new HashSet<>();
    final Map<String, MatchResult> matches = new HashMap<>();
    final List<ConnectorOutput> outputs = new ArrayList<>();
    final List<RequestView> seenRequests = new ArrayList<>();
    final List<SchedulerOutputView> seenOutputs = new ArrayList<>();
    FinishResult finish = FinishResult.freeNow();
    ConnectorMetadata metadata = ConnectorMetadata.NONE;
    ResetResult reset = ResetResult.NOT_SUPPORTED;
    OptionalInt expected = OptionalInt.empty();
    boolean pending;
    List<KvEvent> events = List.of();
    Optional<ConnectorStats> stats = Optional.empty();
    SchedulerState state;

    FakeScheduler(String name) {
        this.name = name;
    }

    private void call(String hook, String detail) {
        calls.add(detail.isEmpty() ? hook : hook + ":" + detail);
        if (throwIn.contains(hook)) {
            throw new IllegalStateException(name + " broke in " + hook);
        }
    }

    /** The recorded calls of {@code hook}. */
    List<String> calls(String hook) {
        return calls.stream()
                .filter(c -> c.equals(hook) || c.startsWith(hook + ":"))
                .toList();
    }

    @Override
    public void bindSchedulerState(SchedulerState s) {
        call("bindSchedulerState", "");
        this.state = s;
    }

    /** What {@link #setHandshakeMetadata} was given. */
    Map<Integer, HandshakeMetadata> handshake;

    @Override
    public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        handshake = byRank;
        call("setHandshakeMetadata", "");
    }

    @Override
    public void onNewRequest(RequestView request) {
        seenRequests.add(request);
        call("onNewRequest", request.requestId());
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        seenRequests.add(request);
        call("getNumNewMatchedTokens", request.requestId() + ":" + localHitTokens);
        return matches.getOrDefault(request.requestId(), MatchResult.none());
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        seenRequests.add(request);
        call("updateStateAfterAlloc", request.requestId() + ":" + blocks + ":" + localHitTokens + ":" + externalTokens);
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        seenOutputs.add(output);
        call("buildConnectorMetadata", Long.toString(output.step()));
        return metadata;
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        outputs.add(output);
        call("updateConnectorOutput", "");
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        seenRequests.add(request);
        call("requestFinished", request.requestId());
        return finish;
    }

    @Override
    public List<KvEvent> takeEvents() {
        call("takeEvents", "");
        List<KvEvent> out = events;
        events = List.of();
        return out;
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        call("takeStats", "");
        Optional<ConnectorStats> out = stats;
        stats = Optional.empty();
        return out;
    }

    @Override
    public ResetResult resetCache() {
        call("resetCache", "");
        return reset;
    }

    @Override
    public OptionalInt expectedFinishedCount() {
        call("expectedFinishedCount", "");
        return expected;
    }

    @Override
    public boolean hasPendingWork() {
        call("hasPendingWork", "");
        return pending;
    }

    @Override
    public void shutdown() {
        call("shutdown", "");
    }

    /** The last output this child was shown. */
    ConnectorOutput lastOutput() {
        return outputs.getLast();
    }
}
