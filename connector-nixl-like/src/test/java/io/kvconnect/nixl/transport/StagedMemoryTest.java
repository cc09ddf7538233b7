package io.kvconnect.nixl.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A UCX producer's description of its staging memory, as the reader checks it at the attach: only
 * exactly the slots asked for, of the agreed block size, in well-formed regions, are accepted.
 * Needs no UCX: the checks run before any remote key is unpacked.
 */
class StagedMemoryTest {
    private static final long SLOT = 4096;
    private static final byte[] ADDRESS = {1, 2, 3};
    private static final byte[] KEY = {9, 9, 9, 9};

    /** A region as the producer writes it: first slot, slots, base address, key. */
    private record R(int first, int slots, long address, byte[] key) {}

    private static byte[] answer(long slotBytes, List<R> regions, int trailing) {
        int size = 4 + ADDRESS.length + 8 + 8 + 4 + trailing;
        for (R r : regions) {
            size += 4 + 4 + 8 + 4 + r.key().length;
        }
        ByteBuffer b = ByteBuffer.allocate(size)
                .putInt(ADDRESS.length)
                .put(ADDRESS)
                .putLong(7)
                .putLong(slotBytes)
                .putInt(regions.size());
        for (R r : regions) {
            b.putInt(r.first())
                    .putInt(r.slots())
                    .putLong(r.address())
                    .putInt(r.key().length)
                    .put(r.key());
        }
        return b.array();
    }

    private static String refused(long slotBytes, List<R> regions, int trailing) {
        return assertThrows(IOException.class, () -> StagedMemory.parse(answer(slotBytes, regions, trailing), 8, SLOT))
                .getMessage();
    }

    @Test
    void exactlyTheSlotsAskedForAreAccepted() throws IOException {
        byte[] answer = answer(SLOT, List.of(new R(0, 3, 1 << 20, KEY), new R(3, 5, 1 << 24, KEY)), 0);
        StagedMemory m = StagedMemory.parse(answer, 8, SLOT);
        assertEquals(8, m.slots());
        assertEquals(2, m.regions().size());
        assertTrue(Arrays.equals(ADDRESS, m.workerAddress()));
        assertEquals(1 << 24, m.regionOf(3).address());
        // Later answers must repeat the description byte for byte, and nothing else.
        byte[] description = Arrays.copyOfRange(answer, 4 + ADDRESS.length, answer.length);
        assertTrue(m.matches(description));
        assertFalse(m.matches(Arrays.copyOf(description, description.length + 1)), "an answer with a byte more");
        byte[] moved = answer(SLOT, List.of(new R(0, 3, (1 << 20) + SLOT, KEY), new R(3, 5, 1 << 24, KEY)), 0);
        assertFalse(m.matches(Arrays.copyOfRange(moved, 4 + ADDRESS.length, moved.length)));
        // A get stays inside its region.
        StagedMemory.Region r = m.regionOf(0);
        assertTrue(r.contains(r.address(), 3 * SLOT, SLOT));
        assertFalse(r.contains(r.address() + SLOT, 3 * SLOT, SLOT));
        assertFalse(r.contains(r.address() - 1, SLOT, SLOT));
    }

    @Test
    void anythingElseIsRefusedNamingWhat() {
        assertTrue(refused(SLOT * 2, List.of(new R(0, 8, 1 << 20, KEY)), 0).contains("agreed on blocks of 4096"));
        assertTrue(refused(SLOT, List.of(new R(0, 4, 1 << 20, KEY)), 0).contains("hold 4 slots; 8 were asked for"));
        assertTrue(refused(SLOT, List.of(new R(0, 9, 1 << 20, KEY)), 0).contains("region 0"));
        // A gap, an overlap, a region not starting at slot 0.
        assertTrue(refused(SLOT, List.of(new R(0, 3, 1 << 20, KEY), new R(4, 4, 1 << 24, KEY)), 0)
                .contains("region 1"));
        assertTrue(refused(SLOT, List.of(new R(0, 3, 1 << 20, KEY), new R(2, 6, 1 << 24, KEY)), 0)
                .contains("region 1"));
        assertTrue(refused(SLOT, List.of(new R(1, 8, 1 << 20, KEY)), 0).contains("region 0"));
        // Addresses: null, negative (beyond user space), wrapping around.
        assertTrue(refused(SLOT, List.of(new R(0, 8, 0, KEY)), 0).contains("at address"));
        assertTrue(refused(SLOT, List.of(new R(0, 8, -4096, KEY)), 0).contains("at address"));
        assertTrue(refused(SLOT, List.of(new R(0, 8, Long.MAX_VALUE - SLOT, KEY)), 0)
                .contains("at address"));
        // Keys: empty or too long.
        assertTrue(refused(SLOT, List.of(new R(0, 8, 1 << 20, new byte[0])), 0).contains("remote key"));
        assertTrue(refused(SLOT, List.of(new R(0, 8, 1 << 20, new byte[StagedMemory.MAX_KEY_BYTES + 1])), 0)
                .contains("remote key"));
        // More regions than slots, bytes after the last region, an answer cut short.
        assertTrue(refused(SLOT, List.of(), 0).contains("regions"));
        assertTrue(refused(SLOT, List.of(new R(0, 8, 1 << 20, KEY)), 3).contains("after the last region"));
        byte[] whole = answer(SLOT, List.of(new R(0, 8, 1 << 20, KEY)), 0);
        for (int cut = 0; cut < whole.length; cut++) {
            byte[] part = Arrays.copyOf(whole, cut);
            assertThrows(IOException.class, () -> StagedMemory.parse(part, 8, SLOT), "cut at " + cut);
        }
    }
}
