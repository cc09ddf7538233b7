package io.kvconnect.testkit.doubles;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;

/**
 * A waiting request's prefill as the engine runs it through a connector's scheduler hooks, for a
 * test that then schedules the steps itself (with a {@link FakeSchedulerOutput} of its own
 * numbering):
 *
 * <pre>{@code
 * ScheduledRequest prefill = PrefillSteps.admit(connector, request, 10);
 * ConnectorMetadata first = connector.buildConnectorMetadata(new FakeSchedulerOutput(0, List.of(prefill), Set.of(), Set.of()));
 * ScheduledRequest decode = PrefillSteps.computed(request);
 * ConnectorMetadata second = connector.buildConnectorMetadata(new FakeSchedulerOutput(1, List.of(decode), Set.of(), Set.of()));
 * }</pre>
 *
 * <p>Not thread-safe: the test's thread only, like the doubles it changes.
 */
public final class PrefillSteps {
    private PrefillSteps() {}

    /**
     * Admits {@code request} with no prefix hit, as the engine does before the step that computes
     * its prompt: asks {@code connector} for matched tokens, gives the request blocks {@code
     * firstBlockId, firstBlockId + 1, ...} (one per full block and one for the last token), tells
     * the connector of them and marks the request running.
     *
     * @return the entry of the step that computes the whole prompt, in those blocks
     * @throws IllegalStateException if the connector reports tokens it could load: the request then
     *     is not one that nothing matched
     */
    public static ScheduledRequest admit(SchedulerConnector connector, FakeRequest request, int firstBlockId) {
        MatchResult match = connector.getNumNewMatchedTokens(request, 0);
        if (!match.equals(MatchResult.none())) {
            throw new IllegalStateException("expected no match for " + request.requestId() + ", got " + match);
        }
        int[] ids = new int[request.numBlockHashes() + 1];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = firstBlockId + i;
        }
        request.setBlockIds(BlockIds.of(ids)); // allocated: the engine's view shows the blocks from now on
        connector.updateStateAfterAlloc(request, request.blockIds(), 0, 0);
        request.setStatus(RequestStatus.RUNNING);
        return new ScheduledRequest(request, ScheduledRequest.Kind.NEW, request.numTokens(), 0, BlockIds.of(ids));
    }

    /**
     * The prefill ran: every token of {@code request} is computed (and so confirmed).
     *
     * @return the entry of the next step, which computes one decode token
     */
    public static ScheduledRequest computed(FakeRequest request) {
        request.setNumComputedTokens(request.numTokens());
        return new ScheduledRequest(
                request, ScheduledRequest.Kind.CONTINUING, 1, request.numTokens(), BlockIds.empty());
    }
}
