package io.kvconnect.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The handshake hooks: every worker's metadata reaches the scheduler side once, before the first step. */
class HandshakeMetadataTest {
    record Address(int port) implements HandshakeMetadata {}

    @Test
    void workersHandshakeMetadataReachesTheSchedulerSideBeforeTheFirstStep() throws Exception {
        List<String> calls = new ArrayList<>();
        SchedulerConnector scheduler = new SchedulerConnector() {
            @Override
            public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
                calls.add("handshake " + byRank);
            }

            @Override
            public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
                return MatchResult.none();
            }

            @Override
            public void updateStateAfterAlloc(
                    RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {}

            @Override
            public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
                calls.add("step");
                return ConnectorMetadata.NONE;
            }
        };
        EngineSetup setup = TestEngines.setup(16, 2, false)
                .withConnector(Optional.of(
                        new EngineSetup.ConnectorSides("handshake", scheduler, rank -> new WorkerConnector() {
                            @Override
                            public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

                            @Override
                            public Optional<HandshakeMetadata> handshakeMetadata() {
                                // Rank 1 has nothing to say: it is absent from the map.
                                return rank == 0 ? Optional.of(new Address(5600)) : Optional.empty();
                            }

                            @Override
                            public void bindConnectorMetadata(ConnectorMetadata metadata) {}

                            @Override
                            public void startLoadKv() {}

                            @Override
                            public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
                                return WorkerStepReport.EMPTY;
                            }
                        })));
        try (Engine engine = new Engine(setup)) {
            engine.addRequest("r", new int[] {1, 2, 3}, 2);
            engine.drain();
        }
        assertEquals("handshake {0=Address[port=5600]}", calls.getFirst());
        assertEquals(1, calls.stream().filter(c -> c.startsWith("handshake")).count());
        assertEquals("step", calls.get(1));
    }
}
