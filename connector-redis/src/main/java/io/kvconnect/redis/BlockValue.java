package io.kvconnect.redis;

import io.kvconnect.api.common.BlockHash;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The stored form of one rank's share of one block: a header, then the block's canonical bytes.
 *
 * <p>Header, big-endian: magic {@code "KVC1"} (4 bytes), namespace id (8), rank (4), block hash
 * (32), payload length (8), CRC-32C of the payload (4). {@link #check} accepts a value only if every
 * field matches what the reader expects, so a value of another namespace, rank or block, a
 * truncated value and a corrupted one are all refused: a miss, never wrong KV.
 */
final class BlockValue {
    static final int MAGIC = 0x4B564331;
    static final int HEADER_BYTES = 4 + 8 + 4 + BlockHash.BYTES + 8 + 4;

    /** Why a value was refused. */
    enum Refusal {
        /** Shorter than a header, or its length field disagrees with its size. */
        TRUNCATED,
        /** Not our magic, or another namespace, rank or block. */
        FOREIGN,
        /** The checksum does not match the payload. */
        CORRUPT
    }

    private BlockValue() {}

    /** {@return the value for {@code payload} (one slot's bytes), header first} */
    static byte[] encode(long namespace, int rank, BlockHash hash, MemorySegment payload) {
        int n = Math.toIntExact(payload.byteSize());
        byte[] out = new byte[HEADER_BYTES + n];
        MemorySegment.copy(payload, ValueLayout.JAVA_BYTE, 0, out, HEADER_BYTES, n);
        CRC32C crc = new CRC32C();
        crc.update(out, HEADER_BYTES, n);
        ByteBuffer.wrap(out)
                .putInt(MAGIC)
                .putLong(namespace)
                .putInt(rank)
                .put(hash.toBytes())
                .putLong(n)
                .putInt((int) crc.getValue());
        return out;
    }

    /**
     * Checks {@code value} against what the reader expects.
     *
     * @return null if it is the expected block's share with {@code payloadBytes} intact bytes,
     *     otherwise why not
     */
    static Refusal check(byte[] value, long namespace, int rank, BlockHash hash, long payloadBytes) {
        if (value.length < HEADER_BYTES || value.length - HEADER_BYTES != payloadBytes) {
            return Refusal.TRUNCATED;
        }
        ByteBuffer b = ByteBuffer.wrap(value);
        byte[] h = new byte[BlockHash.BYTES];
        if (b.getInt() != MAGIC
                || b.getLong() != namespace
                || b.getInt() != rank
                || !BlockHash.fromBytes(get(b, h)).equals(hash)) {
            return Refusal.FOREIGN;
        }
        if (b.getLong() != payloadBytes) {
            return Refusal.TRUNCATED;
        }
        int expected = b.getInt();
        CRC32C crc = new CRC32C();
        crc.update(value, HEADER_BYTES, value.length - HEADER_BYTES);
        return (int) crc.getValue() == expected ? null : Refusal.CORRUPT;
    }

    /** Copies a checked value's payload into {@code slot}. */
    static void copyPayload(byte[] value, MemorySegment slot) {
        MemorySegment.copy(value, HEADER_BYTES, slot, ValueLayout.JAVA_BYTE, 0, value.length - HEADER_BYTES);
    }

    private static byte[] get(ByteBuffer b, byte[] into) {
        b.get(into);
        return into;
    }
}
