package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.sched.ConnectorErrorPolicy;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A load the engine gave up on is over for the workers too: when the connector reports it finished
 * after all, or reports its blocks invalid, long after its blocks were freed and handed to another
 * request, that request is not blamed for blocks no load of its filled.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LateReportAfterGiveUpTest {
    private static final Duration CONNECTOR_TIMEOUT = Duration.ofMillis(300);
    /** Idle steps pause 0.2 ms, so the timeout is reached well within this many steps. */
    private static final int STEP_BOUND = 200_000;
    /** The test engines' block size, in tokens. */
    private static final int BLOCK_SIZE = 4;

    /**
     * Offers an asynchronous load of two blocks for "victim" only, and says when "bystander" has
     * computed past one of the blocks that load was granted (they were freed when it was given up).
     */
    private static final class Offering implements SchedulerConnector {
        private final AtomicBoolean bystanderComputedAVictimBlock;
        private final Set<Integer> victimLoadBlocks;

        Offering(AtomicBoolean bystanderComputedAVictimBlock, Set<Integer> victimLoadBlocks) {
            this.bystanderComputedAVictimBlock = bystanderComputedAVictimBlock;
            this.victimLoadBlocks = victimLoadBlocks;
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            return request.requestId().equals("victim") && localHitTokens == 0
                    ? MatchResult.async(2 * BLOCK_SIZE)
                    : MatchResult.none();
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
            if (request.requestId().equals("victim") && externalTokens > 0) {
                victimLoadBlocks.add(blocks.get(0));
                victimLoadBlocks.add(blocks.get(1));
            }
        }

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            for (ScheduledRequest r : output.scheduledRequests()) {
                RequestView v = r.request();
                if (!v.requestId().equals("bystander")) {
                    continue;
                }
                for (int i = 0; i < v.numBlocks(); i++) {
                    if (victimLoadBlocks.contains(v.blockId(i))
                            && r.numComputedTokensBefore() >= (i + 1) * BLOCK_SIZE) {
                        bystanderComputedAVictimBlock.set(true);
                    }
                }
            }
            return ConnectorMetadata.NONE;
        }
    }

    /**
     * Copies nothing; once "bystander" computed into one of the blocks of the victim's load,
     * reports that load once: finished, or (if {@code invalid}) its blocks invalid.
     */
    private static final class LateWorker implements WorkerConnector {
        private final AtomicBoolean bystanderDecodes;
        private final Set<Integer> victimLoadBlocks;
        private final boolean invalid;
        private boolean reported;

        LateWorker(AtomicBoolean bystanderDecodes, Set<Integer> victimLoadBlocks, boolean invalid) {
            this.bystanderDecodes = bystanderDecodes;
            this.victimLoadBlocks = victimLoadBlocks;
            this.invalid = invalid;
        }

        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {}

        @Override
        public void startLoadKv() {}

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            if (reported || !bystanderDecodes.get()) {
                return WorkerStepReport.EMPTY;
            }
            reported = true;
            return invalid
                    ? WorkerStepReport.builder()
                            .addInvalidBlockIds(Set.copyOf(victimLoadBlocks))
                            .build()
                    : WorkerStepReport.builder()
                            .addFinishedReceiving(List.of("victim"))
                            .build();
        }
    }

    @ParameterizedTest(name = "asyncScheduling={0}, invalid blocks={1}")
    @CsvSource({"false, false", "true, false", "false, true", "true, true"})
    void aLateReportOfAGivenUpLoadBlamesNoOtherRequest(boolean async, boolean invalid) throws Exception {
        AtomicBoolean bystanderDecodes = new AtomicBoolean();
        // Written on the engine thread, read on the workers'.
        Set<Integer> victimLoadBlocks = ConcurrentHashMap.newKeySet();
        EngineSetup base = ConnectorTestSupport.setup(16, 2, async, LoadFailurePolicy.FAIL);
        EngineSetup setup = base.withConfig(c -> c.scheduler(base.config()
                        .scheduler()
                        .withConnectorErrors(ConnectorErrorPolicy.FAIL_REQUESTS)
                        .withConnectorTimeout(CONNECTOR_TIMEOUT)))
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        "late",
                        new Offering(bystanderDecodes, victimLoadBlocks),
                        rank -> new LateWorker(bystanderDecodes, victimLoadBlocks, invalid))));
        try (Engine engine = new Engine(setup)) {
            engine.addRequest("victim", prompt(3, 10), 4);
            drain(engine, STEP_BOUND);
            assertEquals(1, engine.scheduler().stats().transfersGivenUp(), "the victim's load was given up");

            // The whole pool by its end: the victim's freed blocks become the bystander's.
            engine.addRequest("bystander", prompt(4, 56), 8);
            drain(engine, STEP_BOUND);

            assertTrue(
                    bystanderDecodes.get(),
                    "the late report came once the bystander had computed into a block of the given-up load");
            assertNull(
                    engine.metrics().failures().get("bystander"),
                    String.valueOf(engine.metrics().failures()));
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
            if (invalid) {
                assertTrue(
                        engine.scheduler().stats().ignoredInvalidBlocks() >= 2,
                        "the given-up load's two blocks, ignored");
            }
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }
}
