package io.kvconnect.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConnectorConfig;
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
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk scheduler side's GPU references when the engine takes them back from a connector that
 * made no progress (a slow disk while the engine idles): a store that ends afterwards frees
 * nothing, so a later store that holds the same block keeps it until its own copy ends.
 */
class DiskSchedulerTakeBackTest {
    private static final int BS = 16;
    private static final EngineInfo ENGINE =
            new EngineInfo("e", new ModelShape("m", 2, 2, 16, DType.FP16), BS, 1000, 1, false);

    @TempDir
    Path dir;

    private final FakeBlockPool engine = new FakeBlockPool(1000, Integer.MAX_VALUE);
    private DiskScheduler scheduler;
    private long step;

    private DiskScheduler open() {
        ConnectorConfig cc = ConnectorConfigs.of(
                ConnectorConfigs.ENGINE_PATH, Map.of("directory", dir.toString(), "capacity", "1MiB"));
        DiskScheduler s = DiskScheduler.open(DiskConfig.parse(cc), cc, ENGINE);
        s.bindSchedulerState(new FakeSchedulerState(BS, engine));
        scheduler = s;
        return s;
    }

    @AfterEach
    void shutDown() {
        if (scheduler != null) {
            scheduler.shutdown();
        }
    }

    /** A waiting request with {@code blocks} full blocks plus one token, hashes of its own. */
    private static FakeRequest request(String id, int blocks) {
        return FakeRequest.builder(id)
                .countingTokens(blocks * BS + 1)
                .syntheticBlockHashes(BS)
                .maxTokens(8)
                .build();
    }

    private DiskMetadata build(DiskScheduler s, ScheduledRequest scheduled) {
        return assertInstanceOf(
                DiskMetadata.class,
                s.buildConnectorMetadata(new FakeSchedulerOutput(step++, List.of(scheduled), Set.of(), Set.of())));
    }

    /**
     * Admits {@code r} into blocks {@code firstBlockId}, ..., confirms its prefill and schedules
     * its first decode; returns that step's metadata, which plans the stores of its full blocks.
     */
    private DiskMetadata prefill(DiskScheduler s, FakeRequest r, int firstBlockId) {
        s.buildConnectorMetadata(
                new FakeSchedulerOutput(step++, List.of(PrefillSteps.admit(s, r, firstBlockId)), Set.of(), Set.of()));
        return build(s, PrefillSteps.computed(r));
    }

    /** Rank 0 (the only one) reports every store of {@code m} written. */
    private static void written(DiskScheduler s, DiskMetadata m) {
        Map<Long, Boolean> results = new HashMap<>();
        m.stores().forEach(j -> results.put(j.id(), true));
        s.updateConnectorOutput(ConnectorOutput.EMPTY.withWorkerMetadata(
                Optional.of(JobReports.of(0, results, Set.of(), results.keySet()))));
    }

    private static List<Integer> storeBlocks(DiskMetadata m) {
        assertEquals(1, m.stores().size());
        return Arrays.stream(m.stores().getFirst().gpuBlocks()).boxed().toList();
    }

    @Test
    void aStoreEndingAfterTheEngineTookItsReferencesBackFreesNothingALaterStoreHolds() {
        DiskScheduler s = open();
        DiskMetadata early = prefill(s, request("a", 2), 10);
        assertEquals(List.of(10, 11), storeBlocks(early));

        // No progress for the connector timeout: the engine takes every reference back, gives
        // block 11 to request b, and b's store touches it again.
        engine.takeBackAll();
        DiskMetadata late = prefill(s, request("b", 2), 11);
        assertEquals(List.of(11, 12), storeBlocks(late));

        written(s, early);

        assertEquals(1, engine.heldReferences(11), "the later store's copy still reads block 11");
        assertEquals(1, engine.heldReferences(12));
        assertEquals(0, engine.heldReferences(10));
        CounterStats stats = assertInstanceOf(CounterStats.class, s.takeStats().orElseThrow());
        assertEquals(2, stats.get("references_taken_back"));
        written(s, late);
        assertEquals(0, engine.totalHeld(), "the later store gives back its own references");
    }

    @Test
    void storesWithoutATakeBackGiveBackEveryReference() {
        DiskScheduler s = open();
        DiskMetadata a = prefill(s, request("a", 2), 10);
        DiskMetadata b = prefill(s, request("b", 2), 11);
        assertEquals(2, engine.heldReferences(11), "both stores read block 11");

        written(s, a);
        assertEquals(1, engine.heldReferences(11));
        written(s, b);
        assertEquals(0, engine.totalHeld());
        assertTrue(
                s.takeStats()
                        .map(st -> ((CounterStats) st).get("references_taken_back") == 0)
                        .orElse(true),
                "nothing was taken back");
    }
}
