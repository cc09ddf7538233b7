package io.kvconnect.offload;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.testkit.doubles.ForwardingSchedulerConnector;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Forwards every hook, handing the connector each request view through {@link #rewrite}: the
 * mutants that give the real connector a wrong picture of a request (its keys, its block table).
 */
abstract class ViewRewritingConnector extends ForwardingSchedulerConnector {
    ViewRewritingConnector(SchedulerConnector delegate) {
        super(delegate);
    }

    /** The view the connector sees instead of {@code real}. */
    abstract RequestView rewrite(RequestView real);

    @Override
    public void onNewRequest(RequestView request) {
        delegate().onNewRequest(rewrite(request));
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        return delegate().getNumNewMatchedTokens(rewrite(request), localHitTokens);
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        delegate().updateStateAfterAlloc(rewrite(request), blocks, localHitTokens, externalTokens);
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        List<ScheduledRequest> scheduled = new ArrayList<>();
        for (ScheduledRequest sr : output.scheduledRequests()) {
            scheduled.add(new ScheduledRequest(
                    rewrite(sr.request()),
                    sr.kind(),
                    sr.numScheduledTokens(),
                    sr.numComputedTokensBefore(),
                    sr.newBlockIds()));
        }
        return delegate().buildConnectorMetadata(new SchedulerOutputView() {
            @Override
            public long step() {
                return output.step();
            }

            @Override
            public List<ScheduledRequest> scheduledRequests() {
                return scheduled;
            }

            @Override
            public Set<String> preemptedRequestIds() {
                return output.preemptedRequestIds();
            }

            @Override
            public Set<String> finishedRequestIds() {
                return output.finishedRequestIds();
            }

            @Override
            public int totalScheduledTokens() {
                return output.totalScheduledTokens();
            }
        });
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        return delegate().requestFinished(rewrite(request), blockIds);
    }
}
