package io.kvconnect.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.testkit.ConnectorConfigs;
import io.kvconnect.testkit.doubles.FakeBlockPool;
import io.kvconnect.testkit.doubles.FakeRequest;
import io.kvconnect.testkit.doubles.FakeSchedulerOutput;
import io.kvconnect.testkit.doubles.FakeSchedulerState;
import io.kvconnect.testkit.doubles.PrefillSteps;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The scheduler side against hand-made engine views, for the GPU block references its stores
 * hold. No Redis is needed: stores are planned and their reports folded without a command (the
 * store points at a port nothing listens on, and no lookup is made).
 */
class RedisSchedulerTest {
    private static final int BS = 16;
    private static final ModelShape TINY = new ModelShape("tiny", 2, 2, 16, DType.FP16);

    private final FakeBlockPool engine = new FakeBlockPool(1000, Integer.MAX_VALUE);
    private RedisScheduler scheduler;
    private long step;

    @BeforeEach
    void start() throws IOException {
        Map<String, Object> raw =
                Map.of("servers", List.of("127.0.0.1:" + RedisServer.freePort()), "connect_timeout", "100ms");
        RedisConfig config = RedisConfig.parse(ConnectorConfigs.of("connector.config", raw), name -> null);
        EngineInfo info = new EngineInfo("e", TINY, BS, 1000, 1, false);
        scheduler = new RedisScheduler(config, info, new RedisStore(config, "redis-scheduler-test"));
        scheduler.bindSchedulerState(new FakeSchedulerState(BS, engine));
    }

    @AfterEach
    void stop() {
        scheduler.shutdown();
    }

    /** A waiting request with {@code blocks} full blocks plus one token, hashes of its own. */
    private static FakeRequest request(String id, int blocks) {
        return FakeRequest.builder(id)
                .countingTokens(blocks * BS + 1)
                .syntheticBlockHashes(BS)
                .maxTokens(8)
                .build();
    }

    private RedisMetadata build(List<ScheduledRequest> scheduled) {
        ConnectorMetadata m =
                scheduler.buildConnectorMetadata(new FakeSchedulerOutput(step++, scheduled, Set.of(), Set.of()));
        return m instanceof RedisMetadata rm ? rm : RedisMetadata.EMPTY;
    }

    /**
     * Schedules the prefill of {@code r} in blocks {@code firstBlockId, firstBlockId + 1, ...},
     * confirms it and schedules its first decode step; returns that step's store, the one job that
     * holds its full blocks.
     */
    private RedisMetadata.StoreJob prefill(FakeRequest r, int firstBlockId) {
        assertTrue(
                build(List.of(PrefillSteps.admit(scheduler, r, firstBlockId)))
                        .stores()
                        .isEmpty(),
                "nothing is confirmed before the prefill ran");
        RedisMetadata m = build(List.of(PrefillSteps.computed(r)));
        assertEquals(1, m.stores().size());
        return m.stores().getFirst();
    }

    /** Rank 0 (the only one) no longer reads {@code job}'s GPU blocks, and its write ended so. */
    private void ended(RedisMetadata.StoreJob job, boolean ok) {
        JobReports reports = JobReports.of(0, List.of(job.id()), Map.of(job.id(), ok));
        scheduler.updateConnectorOutput(ConnectorOutput.EMPTY.withWorkerMetadata(Optional.of(reports)));
    }

    private static List<Integer> blocks(RedisMetadata.StoreJob job) {
        return Arrays.stream(job.gpuBlocks()).boxed().toList();
    }

    private long takenBack() {
        return ((CounterStats) scheduler.takeStats().orElseThrow()).get("references_taken_back");
    }

    @Test
    void aStoreHoldsItsGpuBlocksUntilEveryRankReleasedThem() {
        RedisMetadata.StoreJob store = prefill(request("a", 2), 10);
        assertEquals(List.of(10, 11), blocks(store), "the two full blocks, not the partial one");
        assertEquals(2, engine.totalHeld());

        ended(store, true);

        assertEquals(0, engine.totalHeld());
    }

    @Test
    void aStoreEndingAfterTheEngineTookItsReferencesBackFreesNothingALaterStoreHolds() {
        RedisMetadata.StoreJob early = prefill(request("a", 2), 10);
        assertEquals(List.of(10, 11), blocks(early));

        // The connector made no progress for its timeout: the engine takes every reference back,
        // gives block 11 to request b, and b's store touches it again.
        engine.takeBackAll();
        RedisMetadata.StoreJob late = prefill(request("b", 2), 11);
        assertEquals(List.of(11, 12), blocks(late));

        // The early store ends after all (its copy refused: the engine ended its grants).
        ended(early, false);

        assertEquals(1, engine.heldReferences(11), "the later store's copy still reads block 11");
        assertEquals(1, engine.heldReferences(12));
        assertEquals(0, engine.heldReferences(10));
        assertEquals(2, takenBack());
        ended(late, true);
        assertEquals(0, engine.totalHeld(), "the later store gives back its own references");
    }

    @Test
    void aStoreEndingAfterATakeBackFreesNoneOfALaterStoreOnTheSameBlocks() {
        RedisMetadata.StoreJob early = prefill(request("a", 2), 10);
        engine.takeBackAll();
        RedisMetadata.StoreJob late = prefill(request("b", 2), 10);
        assertEquals(blocks(early), blocks(late), "the later store holds every block the early one names");

        ended(early, true);

        assertEquals(1, engine.heldReferences(10), "the later store's copy still reads block 10");
        assertEquals(1, engine.heldReferences(11));
        ended(late, true);
        assertEquals(0, engine.totalHeld());
    }

    @Test
    void aShutdownAfterTheEngineTookReferencesBackGivesBackOnlyWhatIsStillHeld() {
        prefill(request("a", 2), 10);
        engine.takeBackAll();
        prefill(request("b", 2), 11);
        scheduler.takeStats();

        scheduler.shutdown();

        assertEquals(0, engine.totalHeld(), "the later store's references are given back, once");
        assertEquals(2, takenBack(), "the early store's references, which the engine took back, are not freed");
    }
}
