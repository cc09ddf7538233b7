package io.kvconnect.testkit.doubles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A prefill's hooks in the engine's order, and the two steps' entries. */
class PrefillStepsTest {
    /** Records the hooks it sees; reports {@code match} for every lookup. */
    private static final class Recording implements SchedulerConnector {
        final List<String> calls = new ArrayList<>();
        final MatchResult match;

        Recording(MatchResult match) {
            this.match = match;
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            calls.add("match " + request.requestId() + " " + request.status());
            return match;
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
            calls.add("alloc " + request.requestId() + " " + blocks + " " + request.blockIds());
        }

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            throw new UnsupportedOperationException("the test schedules its own steps");
        }
    }

    @Test
    void admitRunsTheHooksInOrderAndComputedConfirmsThePrompt() {
        Recording connector = new Recording(MatchResult.none());
        FakeRequest r = FakeRequest.builder("r")
                .countingTokens(2 * 4 + 1)
                .syntheticBlockHashes(4)
                .build();

        ScheduledRequest prefill = PrefillSteps.admit(connector, r, 10);

        BlockIds blocks = BlockIds.of(10, 11, 12);
        assertEquals(List.of("match r " + RequestStatus.WAITING, "alloc r " + blocks + " " + blocks), connector.calls);
        assertEquals(RequestStatus.RUNNING, r.status());
        assertEquals(new ScheduledRequest(r, ScheduledRequest.Kind.NEW, 9, 0, blocks), prefill);
        assertEquals(
                new ScheduledRequest(r, ScheduledRequest.Kind.CONTINUING, 1, 9, BlockIds.empty()),
                PrefillSteps.computed(r));
        assertEquals(9, r.numComputedTokens());
    }

    @Test
    void aRequestTheConnectorMatchedIsRefused() {
        Recording connector = new Recording(MatchResult.sync(4));
        FakeRequest r = FakeRequest.builder("r")
                .countingTokens(9)
                .syntheticBlockHashes(4)
                .build();

        assertThrows(IllegalStateException.class, () -> PrefillSteps.admit(connector, r, 10));
        assertEquals(1, connector.calls.size(), "nothing allocated");
    }
}
