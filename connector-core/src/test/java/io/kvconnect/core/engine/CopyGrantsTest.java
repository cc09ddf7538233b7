package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/**
 * The data plane a connector gets is fenced: it may copy out only blocks in use, copy in only into
 * the external range of a load the engine granted, and a copy of a block freed after it was asked
 * for fails instead of reading or writing another request's KV.
 */
class CopyGrantsTest {
    private static final int BLOCKS = 32;

    /** A scheduler side that never loads and tells its workers which blocks each new request got. */
    private static final class Watching implements SchedulerConnector {
        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            return MatchResult.none();
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {}

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            List<Integer> blocks = new ArrayList<>();
            for (ScheduledRequest sr : output.scheduledRequests()) {
                for (int i = 0; i < sr.newBlockIds().size(); i++) {
                    blocks.add(sr.newBlockIds().get(i));
                }
            }
            return new Blocks(blocks);
        }
    }

    private record Blocks(List<Integer> ids) implements ConnectorMetadata {}

    /**
     * A worker side that, in its first step, copies every block of the pool out and in (a hostile
     * plugin), and later copies out the blocks of the step's requests without holding them.
     */
    private static final class Rogue implements WorkerConnector {
        final List<String> refusedReads = new ArrayList<>();
        final List<String> refusedWrites = new ArrayList<>();
        final ConcurrentLinkedQueue<CopyTicket> unheld = new ConcurrentLinkedQueue<>();
        int allowedReads;
        private BlockCopyService copies;
        private HostBlockBuffer buffer;
        private Blocks bound;
        private boolean first = true;

        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService service) {
            copies = service;
            buffer = service.allocateHostBuffer(1);
        }

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {
            bound = metadata instanceof Blocks b ? b : new Blocks(List.of());
        }

        @Override
        public void startLoadKv() {
            if (first) {
                first = false;
                for (int id = 1; id <= BLOCKS; id++) {
                    try {
                        copies.copyToHost(new int[] {id}, buffer, new int[] {0}).await();
                        allowedReads++;
                    } catch (CopyFailedException e) {
                        refusedReads.add(e.getMessage());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    try {
                        copies.copyFromHost(buffer, new int[] {0}, new int[] {id})
                                .await();
                    } catch (CopyFailedException e) {
                        refusedWrites.add(e.getMessage());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return;
            }
            for (int id : bound.ids()) {
                unheld.add(copies.copyToHost(new int[] {id}, buffer, new int[] {0}));
            }
        }

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            return WorkerStepReport.EMPTY;
        }

        @Override
        public void shutdown() {
            buffer.close();
        }
    }

    private static Engine engine(Rogue rogue, CopyFaults faults) {
        EngineSetup base = ConnectorTestSupport.setup(BLOCKS, 1, false, LoadFailurePolicy.FAIL);
        return new Engine(base.withCopyFaults(faults)
                .withConnector(Optional.of(new EngineSetup.ConnectorSides("rogue", new Watching(), rank -> rogue))));
    }

    @Test
    void aConnectorCanReadOnlyBlocksInUseAndWriteNoBlockItWasNotToldToLoad() throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("a", prompt(7, 14));
        prompts.put("b", prompt(8, 10));
        Map<String, int[]> expected = ConnectorTestSupport.reference(1, false, prompts, 4);
        Rogue rogue = new Rogue();
        try (Engine engine = engine(rogue, CopyFaults.NONE)) {
            prompts.forEach((id, p) -> engine.addRequest(id, p, 4));
            drain(engine);
            // Only the two requests' blocks were in use in the first step (4 + 3 blocks of 4 tokens).
            assertEquals(7, rogue.allowedReads, rogue.refusedReads.toString());
            assertEquals(BLOCKS - 7, rogue.refusedReads.size());
            assertTrue(rogue.refusedReads.getFirst().contains("is free"), rogue.refusedReads.getFirst());
            assertEquals(BLOCKS, rogue.refusedWrites.size(), "not a single write went through");
            assertTrue(
                    rogue.refusedWrites.getFirst().contains("is not the target of a load"),
                    rogue.refusedWrites.getFirst());
            for (String id : prompts.keySet()) {
                assertArrayEquals(expected.get(id), engine.metrics().outputs().get(id), id);
            }
            assertEquals(0, engine.metrics().mismatches());
        }
    }

    /** Offers a huge hit for every request and never loads a byte: the worker reports loads done all the same. */
    private static final class Liar implements SchedulerConnector {
        private final boolean async;

        Liar(boolean async) {
            this.async = async;
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            return async ? MatchResult.async(1_000_000) : MatchResult.sync(1_000_000);
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {}

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            return new Blocks(List.of());
        }
    }

    /** Copies nothing; if {@code reportsLoad}, reports request {@code r}'s load finished at once. */
    private record LyingWorker(boolean reportsLoad) implements WorkerConnector {
        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {}

        @Override
        public void startLoadKv() {}

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            return reportsLoad
                    ? WorkerStepReport.builder()
                            .addFinishedReceiving(Set.of("r"))
                            .build()
                    : WorkerStepReport.EMPTY;
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "async={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aLoadTheConnectorClaimsButNeverMakesIsAFailedLoadNeverGarbage(boolean async) throws Exception {
        long claims = runOneFailedLoad("liar", new Liar(async), new LyingWorker(async));
        assertTrue(claims >= 1, "the claim is counted against the connector");
    }

    /**
     * Runs request {@code r} on an engine with the connector {@code scheduler} and {@code worker}
     * (recomputing after a failed load), checks that its load failed and that it was recomputed,
     * never computed from KV nobody wrote, and returns the loads counted as claimed, not filled.
     */
    private static long runOneFailedLoad(String name, SchedulerConnector scheduler, WorkerConnector worker)
            throws Exception {
        Map<String, int[]> prompts = Map.of("r", prompt(4, 22));
        Map<String, int[]> expected = ConnectorTestSupport.reference(1, false, prompts, 4);
        EngineSetup base = ConnectorTestSupport.setup(BLOCKS, 1, false, LoadFailurePolicy.RECOMPUTE);
        try (Engine engine = new Engine(
                base.withConfig(c -> c.scheduler(base.config().scheduler().withLoadFailureWindow(0)))
                        .withConnector(Optional.of(new EngineSetup.ConnectorSides(name, scheduler, rank -> worker))))) {
            engine.addRequest("r", prompts.get("r"), 4);
            drain(engine);
            assertArrayEquals(expected.get("r"), engine.metrics().outputs().get("r"), "recomputed, not garbage");
            assertEquals(0, engine.metrics().mismatches(), "no KV nobody wrote was used");
            assertTrue(engine.scheduler().stats().loadFailures() >= 1, "the load counts as failed");
            return engine.executor().unfilledLoads();
        }
    }

    /** Offers a huge hit for every request and tells its workers every block each request got. */
    private static final class Failing implements SchedulerConnector {
        private final boolean async;
        private final List<Integer> allocated = new ArrayList<>();

        Failing(boolean async) {
            this.async = async;
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            return request.numComputedTokens() > 0 || !allocated.isEmpty()
                    ? MatchResult.none()
                    : async ? MatchResult.async(1_000_000) : MatchResult.sync(1_000_000);
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
            if (externalTokens > 0) {
                for (int i = 0; i < blocks.size(); i++) {
                    allocated.add(blocks.get(i));
                }
            }
        }

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            Blocks b = new Blocks(List.copyOf(allocated));
            allocated.clear();
            return b;
        }
    }

    /**
     * Copies nothing and reports each load it was given failed: finished with its blocks invalid,
     * or, if {@code invalidFirst}, its blocks invalid in one step and the load finished in the next.
     * If {@code firstBlockOnly}, it reports only the load's first block, as a load that stops at its
     * first failure does: the engine recomputes everything after it anyway.
     */
    private static final class HonestlyFailing implements WorkerConnector {
        private final boolean async;
        private final boolean invalidFirst;
        private final boolean firstBlockOnly;
        private Blocks bound = new Blocks(List.of());
        private boolean finishNext;

        HonestlyFailing(boolean async, boolean invalidFirst, boolean firstBlockOnly) {
            this.async = async;
            this.invalidFirst = invalidFirst;
            this.firstBlockOnly = firstBlockOnly;
        }

        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {
            bound = metadata instanceof Blocks b ? b : new Blocks(List.of());
        }

        @Override
        public void startLoadKv() {}

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            if (finishNext) {
                finishNext = false;
                return WorkerStepReport.builder()
                        .addFinishedReceiving(Set.of("r"))
                        .build();
            }
            if (bound.ids().isEmpty()) {
                return WorkerStepReport.EMPTY;
            }
            var report = WorkerStepReport.builder()
                    .addInvalidBlockIds(firstBlockOnly ? Set.of(bound.ids().getFirst()) : Set.copyOf(bound.ids()));
            if (async && invalidFirst) {
                finishNext = true;
            } else if (async) {
                report.addFinishedReceiving(Set.of("r"));
            }
            return report.build();
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "async={0}, invalid reported a step first={1}")
    @org.junit.jupiter.params.provider.CsvSource({"false, false", "true, false", "true, true"})
    void aLoadTheConnectorReportsFailedIsAFailedLoadNotAClaim(boolean async, boolean invalidFirst) throws Exception {
        long claims = runOneFailedLoad("failing", new Failing(async), new HonestlyFailing(async, invalidFirst, false));
        assertEquals(0, claims, "a load reported failed is not a claim");
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "async={0}, invalid reported a step first={1}")
    @org.junit.jupiter.params.provider.CsvSource({"false, false", "true, false", "true, true"})
    void aLoadReportedFailedAtItsFirstBlockIsNoClaimForTheBlocksAfterIt(boolean async, boolean invalidFirst)
            throws Exception {
        long claims = runOneFailedLoad("failing", new Failing(async), new HonestlyFailing(async, invalidFirst, true));
        assertEquals(0, claims, "blocks after a reported failed block were counted as claimed loads");
    }

    @Test
    void aCopyOfABlockFreedBeforeItRanFailsInsteadOfReadingItsNewOwner() throws Exception {
        Rogue rogue = new Rogue();
        // Stores wait before they run: the requests finish and their blocks go to new ones meanwhile.
        CopyFaults slowStores = (direction, blockIds) -> {
            if (direction == CopyFaults.Direction.TO_HOST) {
                Thread.sleep(20);
            }
        };
        try (Engine engine = engine(rogue, slowStores)) {
            engine.addRequest("warm", prompt(1, 5), 1);
            drain(engine); // the rogue's first step is spent on its pool scan
            engine.addRequest("a", prompt(2, 30), 1);
            drain(engine);
            engine.addRequest("b", prompt(3, 30), 1);
            drain(engine);
            int freed = 0;
            for (CopyTicket t : rogue.unheld) {
                try {
                    t.await();
                } catch (CopyFailedException e) {
                    assertTrue(e.getMessage().contains("was freed after this copy was asked for"), e.getMessage());
                    freed++;
                }
            }
            assertTrue(freed > 0, "no copy outlived its block");
            assertEquals(0, engine.metrics().mismatches());
        }
    }
}
