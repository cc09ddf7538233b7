package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.KvEvent;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * A pool that records no KV events behaves exactly like one that does, records none, and counts
 * what they would have held: the engine reports those counts when it publishes no events. The
 * silent pool is also the one told of coming allocations and caching ({@link
 * BlockPool#prepareForAllocations}, {@link BlockPool#expectCaching}), which must change nothing.
 */
class BlockPoolEventCountsTest {
    private static final int BS = 16;

    @Property(tries = 200)
    void aPoolWithoutEventsMatchesOneWithThemAndCountsTheirHashes(
            @ForAll @IntRange(min = 2, max = 12) int numBlocks,
            @ForAll @Size(min = 1, max = 80) List<@IntRange(min = 0, max = 10_000) Integer> choices) {
        BlockPool recording = new BlockPool(numBlocks, BS, true, true);
        BlockPool silent = new BlockPool(numBlocks, BS, true, false);
        long stored = 0;
        long removed = 0;
        long clears = 0;
        long nextHash = 0;
        for (int c : choices) {
            int kind = c % 6;
            int arg = c / 6;
            switch (kind) {
                case 0 -> {
                    int n = arg % (recording.numFreeBlocks() + 1);
                    silent.prepareForAllocations(); // loads only: must change nothing
                    assertArrayEquals(recording.allocate(n), silent.allocate(n));
                }
                case 1 -> {
                    List<Integer> held = held(recording);
                    if (!held.isEmpty()) {
                        int id = held.get(arg % held.size());
                        recording.free(id);
                        silent.free(id);
                    }
                }
                case 2 -> {
                    List<Integer> held = held(recording);
                    if (!held.isEmpty()) {
                        int start = arg % held.size();
                        int len = 1 + arg % Math.min(3, held.size() - start);
                        int[] ids = held.subList(start, start + len).stream()
                                .mapToInt(Integer::intValue)
                                .toArray();
                        BlockHash[] hashes = new BlockHash[len];
                        for (int i = 0; i < len; i++) {
                            BlockHash own = recording.hashOf(ids[i]);
                            // Every third block reuses a hash seen before: some runs hold duplicates.
                            hashes[i] = own != null
                                    ? own
                                    : new BlockHash(arg % 3 == 0 ? nextHash / 2 : ++nextHash, 1, 2, 3);
                        }
                        BlockHash parent = arg % 2 == 0 ? null : new BlockHash(-arg, 0, 0, 0);
                        // Remembered for the next preparation only, by hash or with the block.
                        BlockHashChain chain = BlockHashChain.of(List.of(hashes));
                        for (int i = 0; i < len; i++) {
                            if ((arg + i) % 2 == 0) {
                                silent.expectCaching(hashes[i]);
                            } else {
                                silent.expectCaching(chain, i, ids[i]);
                            }
                        }
                        recording.cache(ids, hashes, parent);
                        silent.cache(ids, hashes, parent);
                    }
                }
                case 3 -> {
                    int id = 1 + arg % (numBlocks - 1);
                    assertEquals(recording.evict(id), silent.evict(id));
                }
                case 4 -> {
                    int id = 1 + arg % (numBlocks - 1);
                    if (recording.refCount(id) > 0 || recording.hashOf(id) != null) {
                        recording.touch(id);
                        silent.touch(id);
                    }
                }
                default -> assertEquals(recording.resetPrefixCache(), silent.resetPrefixCache());
            }
            for (KvEvent e : recording.takeEvents()) {
                switch (e) {
                    case KvEvent.BlockStored s -> stored += s.blockHashes().size();
                    case KvEvent.BlockRemoved r -> removed += r.blockHashes().size();
                    case KvEvent.AllBlocksCleared a -> clears++;
                }
            }
            assertEquals(List.of(), silent.takeEvents(), "a pool without events recorded one");
            assertSameState(recording, silent);
            assertEquals(stored, silent.storedHashes(), "stored hashes");
            assertEquals(removed, silent.removedHashes(), "removed hashes");
            assertEquals(clears, silent.clears(), "clears");
            assertEquals(stored, recording.storedHashes(), "the recording pool counts too");
            assertEquals(removed, recording.removedHashes());
            assertEquals(clears, recording.clears());
        }
    }

    @Test
    void announcingABlockRejectsWhatIsNotAHashOrABlockOfThePool() {
        BlockPool pool = new BlockPool(4, BS, true, false);
        BlockHashChain chain = BlockHashChain.of(List.of(new BlockHash(1, 2, 3, 4)));
        assertThrows(IndexOutOfBoundsException.class, () -> pool.expectCaching(chain, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> pool.expectCaching(chain, 0, 0), "the null block");
        assertThrows(IllegalArgumentException.class, () -> pool.expectCaching(chain, 0, 4));
        pool.expectCaching(chain, 0, 3);
        pool.prepareForAllocations();
        assertEquals(3, pool.numFreeBlocks(), "announcing and preparing change nothing");
    }

    @Test
    void theFlagIsReported() {
        assertTrue(new BlockPool(4, BS, true).recordsEvents(), "the short constructor records events");
        assertFalse(new BlockPool(4, BS, true, false).recordsEvents());
    }

    private static List<Integer> held(BlockPool pool) {
        List<Integer> held = new ArrayList<>();
        for (int id = 1; id < pool.numBlocks(); id++) {
            if (pool.refCount(id) > 0) {
                held.add(id);
            }
        }
        return held;
    }

    private static void assertSameState(BlockPool a, BlockPool b) {
        assertEquals(a.numFreeBlocks(), b.numFreeBlocks());
        assertEquals(a.numCachedBlocks(), b.numCachedBlocks());
        assertArrayEquals(a.freeQueueOrder(), b.freeQueueOrder());
        for (int id = 1; id < a.numBlocks(); id++) {
            assertEquals(a.refCount(id), b.refCount(id), "reference count of " + id);
            assertEquals(a.hashOf(id), b.hashOf(id), "hash of " + id);
        }
        b.checkStructure();
    }
}
