package io.kvconnect.core.engine;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;

/**
 * A scheduler side whose three required hooks do nothing: it offers no tokens, keeps nothing after
 * an allocation and sends no metadata. For test doubles that only care about the hooks they
 * override (an interface, so that records can be such doubles too).
 */
public interface InertSchedulerConnector extends SchedulerConnector {
    @Override
    default MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        return MatchResult.none();
    }

    @Override
    default void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {}

    @Override
    default ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        return ConnectorMetadata.NONE;
    }
}
