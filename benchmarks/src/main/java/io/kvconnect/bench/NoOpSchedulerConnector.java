package io.kvconnect.bench;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;

/**
 * A connector that never provides tokens and has nothing to say to its workers: what remains is the
 * engine's own cost of calling a connector. It counts its calls, so the JIT cannot treat the hooks
 * as dead code and the benchmark can check that they ran.
 */
final class NoOpSchedulerConnector implements SchedulerConnector {
    long newRequests;
    long matchQueries;
    long allocations;
    long metadataBuilds;
    long scheduledSeen;

    @Override
    public void onNewRequest(RequestView request) {
        newRequests++;
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        matchQueries++;
        return MatchResult.none();
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        allocations++;
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        metadataBuilds++;
        scheduledSeen += output.scheduledRequests().size();
        return ConnectorMetadata.NONE;
    }
}
