package io.kvconnect.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.sched.RequestUpdate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A connector misusing its {@link GPUBlockPoolView} inside a running engine: touching every block,
 * never freeing, or calling the view from a thread of its own. The engine refuses the misuse and
 * keeps serving every request with the outputs of an engine without the connector.
 */
class PoolViewLimitsTest {
    private static final int BLOCKS = 32;
    private static final int REQUESTS = 8;

    /** A scheduler side that does nothing but run {@code misuse} on its pool view in every step. */
    private static final class Misbehaving implements SchedulerConnector {
        private final Consumer<GPUBlockPoolView> misuse;
        private GPUBlockPoolView pool;

        Misbehaving(Consumer<GPUBlockPoolView> misuse) {
            this.misuse = misuse;
        }

        @Override
        public void bindSchedulerState(SchedulerState state) {
            pool = state.gpuBlockPool();
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
            misuse.accept(pool);
            return ConnectorMetadata.NONE;
        }
    }

    private static WorkerConnector idleWorker() {
        return new WorkerConnector() {
            @Override
            public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

            @Override
            public void bindConnectorMetadata(ConnectorMetadata metadata) {}

            @Override
            public void startLoadKv() {}

            @Override
            public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
                return WorkerStepReport.EMPTY;
            }
        };
    }

    /**
     * Runs the requests for at most 400 steps (each needs about a dozen) and returns the finished
     * ones; the engine's invariants are checked after every step.
     */
    private static Map<String, RequestUpdate.Finished> run(
            Optional<SchedulerConnector> connector, Consumer<Engine> afterRun) throws InterruptedException {
        EngineSetup setup = TestEngines.setup(BLOCKS, 1, false)
                .withConnector(
                        connector.map(c -> new EngineSetup.ConnectorSides("misbehaving", c, rank -> idleWorker())));
        Map<String, RequestUpdate.Finished> finished = new LinkedHashMap<>();
        SplittableRandom random = new SplittableRandom(7);
        try (Engine engine = new Engine(setup)) {
            for (int i = 0; i < REQUESTS; i++) {
                engine.addRequest("r" + i, TestEngines.prompt(random, 10 + random.nextInt(8)), 8);
            }
            for (int step = 0; step < 400 && finished.size() < REQUESTS; step++) {
                for (RequestUpdate u : engine.step()) {
                    if (u instanceof RequestUpdate.Finished f) {
                        finished.put(f.requestId(), f);
                    }
                }
            }
            afterRun.accept(engine);
        }
        return finished;
    }

    private static void assertSameOutputsAsWithoutTheConnector(Map<String, RequestUpdate.Finished> finished)
            throws InterruptedException {
        Map<String, RequestUpdate.Finished> baseline = run(Optional.empty(), e -> {});
        assertEquals(baseline.keySet(), finished.keySet(), "every request finished");
        for (RequestUpdate.Finished f : finished.values()) {
            assertNotEquals(RequestStatus.FINISHED_ERROR, f.status(), f.requestId() + ": " + f.reason());
            assertArrayEquals(baseline.get(f.requestId()).outputTokens(), f.outputTokens(), f.requestId());
        }
    }

    @Test
    void aConnectorGrabbingEveryBlockGetsOnlyInUseBlocksUpToItsCapAndRequestsStillFinish() throws InterruptedException {
        List<RuntimeException> refusals = new ArrayList<>();
        long[] heldAtEnd = new long[1];
        Misbehaving grabber = new Misbehaving(pool -> {
            int[] all = new int[pool.numBlocks()];
            for (int id = 1; id <= all.length; id++) {
                all[id - 1] = id;
            }
            try {
                pool.touch(all); // every block at once: some are free and uncached
            } catch (RuntimeException e) {
                refusals.add(e);
            }
            for (int id : all) { // then each block it can get, never to free it
                try {
                    pool.touch(id);
                } catch (RuntimeException e) {
                    refusals.add(e);
                }
            }
        });

        Map<String, RequestUpdate.Finished> finished = run(
                Optional.of(grabber),
                engine -> heldAtEnd[0] =
                        engine.scheduler().view().connectorBlockView().totalHeld());

        assertSameOutputsAsWithoutTheConnector(finished);
        assertEquals(BLOCKS / 2, heldAtEnd[0], "the connector holds as many references as its cap, no more");
        assertTrue(
                refusals.getFirst() instanceof IllegalArgumentException,
                refusals.getFirst().toString());
        assertTrue(
                refusals.getFirst().getMessage().contains("is free and not cached"),
                refusals.getFirst().getMessage());
        assertTrue(
                refusals.stream()
                        .anyMatch(e -> e instanceof IllegalStateException
                                && e.getMessage().contains("cap of 16 (engine key connector_block_references)")),
                "some touch met the cap");
    }

    @Test
    void aConnectorCallingTheViewFromItsOwnThreadIsRefusedAndTheEngineGoesOn() throws InterruptedException {
        ExecutorService own = Executors.newSingleThreadExecutor(r -> new Thread(r, "plugin-worker"));
        List<Throwable> refusals = new ArrayList<>();
        long[] heldAtEnd = new long[1];
        int[] freeBlocks = new int[2];
        Misbehaving threaded = new Misbehaving(pool -> {
            freeBlocks[0] = pool.numFreeBlocks();
            try {
                // As a connector's own copy thread would: no engine hook is running there.
                own.submit(() -> {
                            pool.touch(1, 2, 3);
                            return null;
                        })
                        .get();
            } catch (ExecutionException e) {
                refusals.add(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            freeBlocks[1] = pool.numFreeBlocks();
        });
        Map<String, RequestUpdate.Finished> finished;
        try {
            finished = run(
                    Optional.of(threaded),
                    engine -> heldAtEnd[0] =
                            engine.scheduler().view().connectorBlockView().totalHeld());
        } finally {
            own.shutdownNow();
        }

        assertSameOutputsAsWithoutTheConnector(finished);
        assertTrue(refusals.size() >= REQUESTS, "refused in every step: " + refusals.size());
        for (Throwable t : refusals) {
            assertTrue(t instanceof IllegalStateException, t.toString());
            assertTrue(
                    t.getMessage().startsWith("GPUBlockPoolView may be used only on the engine thread"),
                    t.getMessage());
            assertTrue(t.getMessage().endsWith("; called from plugin-worker"), t.getMessage());
        }
        assertEquals(0, heldAtEnd[0], "nothing was touched");
        assertEquals(freeBlocks[0], freeBlocks[1], "the pool is unchanged by the refused call");
    }
}
