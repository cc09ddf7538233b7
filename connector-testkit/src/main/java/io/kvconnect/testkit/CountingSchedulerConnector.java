package io.kvconnect.testkit;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.testkit.doubles.ForwardingSchedulerConnector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Forwards every hook to the connector under test and records what the contract promises about
 * the calls, so the kit can check the engine's side and the connector's answers: {@code
 * requestFinished} exactly once per request, external tokens never beyond the request. It also
 * records in the {@link ReportLedger} the asynchronous loads the engine granted and the frees the
 * connector delayed, against which the workers' step reports are checked.
 */
final class CountingSchedulerConnector extends ForwardingSchedulerConnector {
    private final ReportLedger ledger;
    /** Requests whose last {@code getNumNewMatchedTokens} answer was an asynchronous load. */
    private final Set<String> asyncAnswers = new HashSet<>();

    private final Map<String, Integer> added = new HashMap<>();
    private final Map<String, Integer> finished = new HashMap<>();
    private final Map<String, Integer> loads = new HashMap<>();
    private final List<String> problems = new ArrayList<>();

    CountingSchedulerConnector(SchedulerConnector delegate, ReportLedger ledger) {
        super(delegate);
        this.ledger = ledger;
    }

    List<String> problems() {
        List<String> all = new ArrayList<>(problems);
        all.addAll(ledger.problems());
        for (String id : added.keySet()) {
            int n = finished.getOrDefault(id, 0);
            if (n != 1) {
                all.add("requestFinished was called " + n + " time(s) for request " + id);
            }
        }
        return all;
    }

    @Override
    public void onNewRequest(RequestView request) {
        added.merge(request.requestId(), 1, Integer::sum);
        delegate().onNewRequest(request);
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        asyncAnswers.remove(request.requestId());
        MatchResult r = delegate().getNumNewMatchedTokens(request, localHitTokens);
        if (r instanceof MatchResult.Tokens t && t.async()) {
            asyncAnswers.add(request.requestId());
        }
        if (r instanceof MatchResult.Tokens t && t.count() > request.numTokens() - localHitTokens) {
            problems.add("getNumNewMatchedTokens offered " + t.count() + " tokens for request "
                    + request.requestId() + ", more than the " + (request.numTokens() - localHitTokens)
                    + " beyond its local hit");
        }
        return r;
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        if (externalTokens > 0) {
            loads.merge(request.requestId(), 1, Integer::sum);
            if (asyncAnswers.contains(request.requestId())) {
                // Recorded before the connector hears of it: it must report the load even if it throws.
                ledger.asyncLoadGranted(request.requestId());
            }
        }
        asyncAnswers.remove(request.requestId());
        delegate().updateStateAfterAlloc(request, blocks, localHitTokens, externalTokens);
    }

    /** The most external loads the engine granted one request (0 if none). */
    int maxLoadsPerRequest() {
        return loads.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        finished.merge(request.requestId(), 1, Integer::sum);
        asyncAnswers.remove(request.requestId());
        FinishResult result = delegate().requestFinished(request, blockIds);
        if (result != null && result.delayFree()) {
            ledger.freeDelayed(request.requestId());
        }
        return result;
    }

    @Override
    public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        delegate().setHandshakeMetadata(byRank);
    }
}
