package io.kvconnect.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.kvconnect.api.common.BlockHash;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** A value is accepted only by the reader of its own namespace, rank and block, intact. */
class BlockValueTest {
    private static final BlockHash HASH = new BlockHash(1, 2, 3, 4);

    @Test
    void roundTripsAndRefusesEverythingElse() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(256);
            for (int i = 0; i < 256; i++) {
                slot.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            }
            byte[] value = BlockValue.encode(7, 1, HASH, slot);
            assertNull(BlockValue.check(value, 7, 1, HASH, 256));
            MemorySegment into = arena.allocate(256);
            BlockValue.copyPayload(value, into);
            assertEquals(-1, slot.mismatch(into));

            assertEquals(BlockValue.Refusal.FOREIGN, BlockValue.check(value, 8, 1, HASH, 256));
            assertEquals(BlockValue.Refusal.FOREIGN, BlockValue.check(value, 7, 0, HASH, 256));
            assertEquals(BlockValue.Refusal.FOREIGN, BlockValue.check(value, 7, 1, new BlockHash(1, 2, 3, 5), 256));
            assertEquals(BlockValue.Refusal.TRUNCATED, BlockValue.check(value, 7, 1, HASH, 512));
            assertEquals(
                    BlockValue.Refusal.TRUNCATED,
                    BlockValue.check(java.util.Arrays.copyOf(value, value.length - 1), 7, 1, HASH, 256));
            value[BlockValue.HEADER_BYTES + 17] ^= 1;
            assertEquals(BlockValue.Refusal.CORRUPT, BlockValue.check(value, 7, 1, HASH, 256));
        }
    }
}
