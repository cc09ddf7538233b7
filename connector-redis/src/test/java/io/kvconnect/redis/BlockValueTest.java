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
            ValueSeal crc = ValueSeal.checksum();
            byte[] value = BlockValue.encode(7, 1, HASH, slot, crc);
            assertNull(BlockValue.check(value, 7, 1, HASH, 256, crc));
            MemorySegment into = arena.allocate(256);
            BlockValue.copyPayload(value, into);
            assertEquals(-1, slot.mismatch(into));

            assertEquals(BlockValue.Refusal.FOREIGN, BlockValue.check(value, 8, 1, HASH, 256, crc));
            assertEquals(BlockValue.Refusal.FOREIGN, BlockValue.check(value, 7, 0, HASH, 256, crc));
            assertEquals(
                    BlockValue.Refusal.FOREIGN, BlockValue.check(value, 7, 1, new BlockHash(1, 2, 3, 5), 256, crc));
            assertEquals(BlockValue.Refusal.TRUNCATED, BlockValue.check(value, 7, 1, HASH, 512, crc));
            assertEquals(
                    BlockValue.Refusal.TRUNCATED,
                    BlockValue.check(java.util.Arrays.copyOf(value, value.length - 1), 7, 1, HASH, 256, crc));
            value[BlockValue.HEADER_BYTES + 17] ^= 1;
            assertEquals(BlockValue.Refusal.CORRUPT, BlockValue.check(value, 7, 1, HASH, 256, crc));
        }
    }

    @Test
    void underAValueSecretOnlyValuesSignedWithItAreAccepted() {
        ValueSeal seal = ValueSeal.hmac(new Secret("the deployment's value secret"));
        ValueSeal other = ValueSeal.hmac(new Secret("another value secret, not ours"));
        ValueSeal crc = ValueSeal.checksum();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(256);
            for (int i = 0; i < 256; i++) {
                slot.set(ValueLayout.JAVA_BYTE, i, (byte) (3 * i));
            }
            byte[] value = BlockValue.encode(7, 1, HASH, slot, seal);
            assertEquals(BlockValue.SIGNED_HEADER_BYTES + 256, value.length);
            assertNull(BlockValue.check(value, 7, 1, HASH, 256, seal));
            MemorySegment into = arena.allocate(256);
            BlockValue.copyPayload(value, into);
            assertEquals(-1, slot.mismatch(into));

            // Made without our secret: with another one, or with a checksum only.
            assertEquals(
                    BlockValue.Refusal.FORGED,
                    BlockValue.check(BlockValue.encode(7, 1, HASH, slot, other), 7, 1, HASH, 256, seal));
            byte[] unsigned = BlockValue.encode(7, 1, HASH, slot, crc);
            assertEquals(
                    BlockValue.Refusal.TRUNCATED, BlockValue.check(unsigned, 7, 1, HASH, 256, seal), "shorter header");
            byte[] padded = java.util.Arrays.copyOf(unsigned, value.length);
            assertEquals(BlockValue.Refusal.FOREIGN, BlockValue.check(padded, 7, 1, HASH, 256, seal), "its magic");
            // Altered after signing: a payload byte, or the MAC itself.
            byte[] altered = value.clone();
            altered[BlockValue.SIGNED_HEADER_BYTES + 17] ^= 1;
            assertEquals(BlockValue.Refusal.FORGED, BlockValue.check(altered, 7, 1, HASH, 256, seal));
            altered = value.clone();
            altered[BlockValue.FIELDS_BYTES] ^= 1;
            assertEquals(BlockValue.Refusal.FORGED, BlockValue.check(altered, 7, 1, HASH, 256, seal));
            // A signed value read by a reader without the secret is not ours either.
            assertEquals(BlockValue.Refusal.TRUNCATED, BlockValue.check(value, 7, 1, HASH, 256, crc));
        }
    }
}
