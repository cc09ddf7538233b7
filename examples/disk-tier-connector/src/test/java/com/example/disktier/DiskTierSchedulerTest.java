package com.example.disktier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.testkit.doubles.FakeBlockPool;
import io.kvconnect.testkit.doubles.FakeRequest;
import io.kvconnect.testkit.doubles.FakeSchedulerOutput;
import io.kvconnect.testkit.doubles.FakeSchedulerState;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler side hook by hook, with the test kit's doubles: what it finds on disk at start, what
 * it offers, loads, stores and evicts. Two workers, blocks of 4 tokens.
 */
class DiskTierSchedulerTest {
    private static final int BLOCK = 4;
    private static final EngineInfo ENGINE = new EngineInfo("test", new ModelShape("m", 2, 2, 16, DType.FP16), BLOCK,
            64, 2, false);
    private static final List<BlockHash> HASHES = List.of(hash(1), hash(2), hash(3), hash(4));

    @TempDir
    Path dir;

    private final FakeSchedulerState state = new FakeSchedulerState(BLOCK, new FakeBlockPool(64));

    @Test
    void blocksEveryWorkerHasAFileOfAreFoundAndTheRestIsDeleted() throws IOException {
        for (int rank = 0; rank < 2; rank++) {
            writeFiles(rank, HASHES.subList(0, 3));
        }
        truncate(1, HASHES.get(1)); // a short file: a miss, and deleted
        writeFiles(0, HASHES.subList(3, 4)); // on one worker only: deleted

        var scheduler = open(100);

        assertEquals(MatchResult.sync(4), scheduler.getNumNewMatchedTokens(request("a", 16), 0),
                "block 0 only: block 1's file is short on rank 1");
        var orders = assertInstanceOf(DiskTierMetadata.class, scheduler.buildConnectorMetadata(step(1)));
        assertEquals(Set.of(HASHES.get(1), HASHES.get(3)), Set.copyOf(orders.evictions()));
    }

    @Test
    void aLoadFillsTheExternalRangeOfTheBlockTable() throws IOException {
        for (int rank = 0; rank < 2; rank++) {
            writeFiles(rank, HASHES.subList(0, 3));
        }
        var scheduler = open(100);
        var a = request("a", 17);

        assertEquals(MatchResult.sync(8), scheduler.getNumNewMatchedTokens(a, 4), "blocks 1, 2 after the local hit");
        scheduler.updateStateAfterAlloc(a, BlockIds.of(9, 5, 6, 7, 8), 4, 7); // the engine took 7 of the 8 tokens

        var orders = assertInstanceOf(DiskTierMetadata.class, scheduler.buildConnectorMetadata(step(1)));
        assertEquals(List.of(new DiskTierMetadata.Load(HASHES.subList(1, 3), BlockIds.of(5, 6))), orders.loads());
        assertEquals(List.of(), orders.stores());
        assertEquals(List.of(), orders.evictions());
    }

    @Test
    void aFinishedRequestsConfirmedBlocksAreOfferedOnceEveryWorkerWroteThem() throws IOException {
        var scheduler = open(100);
        var a = request("a", 16);
        assertEquals(MatchResult.none(), scheduler.getNumNewMatchedTokens(a, 0));
        a.setBlockIds(BlockIds.of(11, 12, 13, 14));
        a.setNumComputedTokens(10); // two full blocks confirmed
        a.setStatus(RequestStatus.FINISHED_STOPPED);
        state.running().add(a); // the engine still knows a request whose free is delayed

        assertEquals(FinishResult.delayFree(TransferParams.empty()), scheduler.requestFinished(a, a.blockIds()));
        var orders = assertInstanceOf(DiskTierMetadata.class, scheduler.buildConnectorMetadata(step(1)));
        assertEquals(List.of(new DiskTierMetadata.Store("a", HASHES.subList(0, 2), BlockIds.of(11, 12))),
                orders.stores());
        assertEquals(MatchResult.none(), scheduler.getNumNewMatchedTokens(request("b", 16), 0), "still being written");

        scheduler.updateConnectorOutput(sent(Set.of("a"), Set.of()));
        assertEquals(MatchResult.sync(8), scheduler.getNumNewMatchedTokens(request("c", 16), 0));
    }

    @Test
    void aBlockAWorkerFailedToWriteIsNeverOfferedAndItsFilesAreDeleted() throws IOException {
        var scheduler = open(100);
        var a = request("a", 16);
        a.setBlockIds(BlockIds.of(11, 12, 13, 14));
        a.setNumComputedTokens(16);
        state.running().add(a);
        scheduler.requestFinished(a, a.blockIds());
        scheduler.buildConnectorMetadata(step(1));

        scheduler.updateConnectorOutput(sent(Set.of("a"), Set.of(new DiskTierReport.FailedStore("a", HASHES.get(1)))));

        assertEquals(MatchResult.sync(4), scheduler.getNumNewMatchedTokens(request("b", 16), 0), "block 0 only");
        assertTrue(scheduler.hasPendingWork(), "a deletion waits for the next step");
        var orders = assertInstanceOf(DiskTierMetadata.class, scheduler.buildConnectorMetadata(step(2)));
        assertEquals(List.of(HASHES.get(1)), orders.evictions(), "the other worker may have written its file");
        assertFalse(scheduler.hasPendingWork());
    }

    @Test
    void aStoreTheEngineGaveUpOnIsDropped() throws IOException {
        var scheduler = open(100);
        var a = request("a", 8);
        a.setBlockIds(BlockIds.of(11, 12));
        a.setNumComputedTokens(8);
        state.running().add(a);
        scheduler.requestFinished(a, a.blockIds());
        scheduler.buildConnectorMetadata(step(1));

        state.running().remove(a); // no worker reported it in time: the engine freed its blocks
        scheduler.updateConnectorOutput(ConnectorOutput.EMPTY);

        assertEquals(0, scheduler.index().size());
        var orders = assertInstanceOf(DiskTierMetadata.class, scheduler.buildConnectorMetadata(step(2)));
        assertEquals(HASHES.subList(0, 2), orders.evictions());
    }

    @Test
    void aFullTierEvictsItsLeastRecentlyUsedBlockForANewOne() throws IOException {
        for (int rank = 0; rank < 2; rank++) {
            writeFiles(rank, HASHES.subList(0, 2));
        }
        var scheduler = open(2);
        var other = FakeRequest.builder("x").countingTokens(4).blockHashes(List.of(hash(9))).build();
        other.setBlockIds(BlockIds.of(20));
        other.setNumComputedTokens(4);
        state.running().add(other);
        // A lookup of block 0 makes block 1 the least recently used.
        var probe = FakeRequest.builder("p").countingTokens(5).blockHashes(HASHES.subList(0, 1)).build();
        assertEquals(MatchResult.sync(4), scheduler.getNumNewMatchedTokens(probe, 0));
        scheduler.requestFinished(probe, BlockIds.empty());

        scheduler.requestFinished(other, other.blockIds());

        var orders = assertInstanceOf(DiskTierMetadata.class, scheduler.buildConnectorMetadata(step(1)));
        assertEquals(List.of(HASHES.get(1)), orders.evictions());
        assertTrue(scheduler.index().isReady(HASHES.get(0)));
    }

    @Test
    void nothingToSayIsNone() throws IOException {
        assertEquals(ConnectorMetadata.NONE, open(100).buildConnectorMetadata(step(1)));
    }

    private DiskTierScheduler open(int capacityBlocks) {
        var scheduler = DiskTierScheduler.open(new DiskTierSettings(dir, capacityBlocks), ENGINE);
        scheduler.bindSchedulerState(state);
        return scheduler;
    }

    private static FakeRequest request(String id, int tokens) {
        return FakeRequest.builder(id).countingTokens(tokens).blockHashes(HASHES.subList(0, tokens / BLOCK)).build();
    }

    private static FakeSchedulerOutput step(long step) {
        return FakeSchedulerOutput.of(step, List.of());
    }

    private static ConnectorOutput sent(Set<String> requests, Set<DiskTierReport.FailedStore> failed) {
        return new ConnectorOutput(requests, Set.of(), Set.of(), Optional.empty(), List.of(),
                Optional.of(new DiskTierReport(failed, Set.of())));
    }

    private void writeFiles(int rank, List<BlockHash> hashes) throws IOException {
        Path rankDir = Files.createDirectories(BlockFiles.rankDirectory(dir, ENGINE, rank));
        try (Arena arena = Arena.ofConfined()) {
            for (BlockHash h : hashes) {
                BlockFiles.write(rankDir, h, arena.allocate(BlockFiles.payloadBytes(ENGINE)));
            }
        }
    }

    private void truncate(int rank, BlockHash hash) throws IOException {
        Path file = BlockFiles.rankDirectory(dir, ENGINE, rank).resolve(BlockFiles.fileName(hash));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(100);
        }
    }

    private static BlockHash hash(int i) {
        return new BlockHash(i, i, i, i);
    }
}
