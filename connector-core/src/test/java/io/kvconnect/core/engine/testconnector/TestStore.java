package io.kvconnect.core.engine.testconnector;

import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.HostBlockBuffer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The host-memory store of a {@link HostCacheTestConnector}, shared by its worker sides: one
 * {@link RankStore} per rank, each a {@link HostBlockBuffer} allocated through that rank's
 * {@link BlockCopyService}. Slot {@code s} of every rank holds that rank's part of the same block;
 * the scheduler side decides which hash lives in which slot.
 *
 * <p>Also collects what the worker sides found wrong (content that differs between two copies of
 * one hash, blocks of a delayed free that changed while held). Thread-safe.
 */
public final class TestStore {
    private final int storeSlots;
    private final int scratchSlots;
    private final Map<Integer, RankStore> ranks = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    /** "request#generation" to the ranks that reported that asynchronous load finished. */
    private final Map<String, Set<Integer>> loadReports = new ConcurrentHashMap<>();

    TestStore(int storeSlots, int scratchSlots) {
        this.storeSlots = storeSlots;
        this.scratchSlots = scratchSlots;
    }

    /**
     * One rank's memory: {@code [0, storeSlots)} store slots, then scratch slots, then one slot of
     * garbage.
     *
     * @param rank the rank
     * @param copies its copy service
     * @param buffer its buffer
     */
    public record RankStore(int rank, BlockCopyService copies, HostBlockBuffer buffer) {}

    /** Called by a worker side in {@code registerKvCaches}. */
    RankStore register(int rank, BlockCopyService copies) {
        HostBlockBuffer buffer = copies.allocateHostBuffer(storeSlots + scratchSlots + 1);
        MemorySegment garbage = buffer.slot(garbageSlot());
        SplittableRandom random = new SplittableRandom(1234 + rank);
        for (long i = 0; i + Long.BYTES <= garbage.byteSize(); i += Long.BYTES) {
            garbage.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        RankStore store = new RankStore(rank, copies, buffer);
        if (ranks.putIfAbsent(rank, store) != null) {
            buffer.close();
            throw new IllegalStateException("rank " + rank + " registered twice");
        }
        return store;
    }

    /** Number of ranks registered (all of them once the engine is built). */
    public int numRanks() {
        return ranks.size();
    }

    int storeSlots() {
        return storeSlots;
    }

    int firstScratchSlot() {
        return storeSlots;
    }

    int scratchSlots() {
        return scratchSlots;
    }

    int garbageSlot() {
        return storeSlots + scratchSlots;
    }

    /** A worker reports generation {@code generation} of {@code requestId}'s load finished. */
    void loadReported(String requestId, long generation, int rank) {
        loadReports
                .computeIfAbsent(requestId + "#" + generation, k -> ConcurrentHashMap.newKeySet())
                .add(rank);
    }

    /** How many ranks reported that load finished. */
    int loadReports(String requestId, long generation) {
        Set<Integer> ranks = loadReports.get(requestId + "#" + generation);
        return ranks == null ? 0 : ranks.size();
    }

    void problem(String what) {
        problems.add(what);
    }

    /** Content problems the worker sides found. */
    public List<String> problems() {
        return new ArrayList<>(problems);
    }
}
