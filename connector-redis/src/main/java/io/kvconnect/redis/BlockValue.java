package io.kvconnect.redis;

import io.kvconnect.api.common.BlockHash;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The stored form of one rank's share of one block: a header, then the block's canonical bytes.
 *
 * <p>Header, big-endian: a magic number (4 bytes), namespace id (8), rank (4), block hash (32),
 * payload length (8), then what protects it ({@link ValueSeal}): with magic {@code "KVC1"} the
 * CRC-32C of the payload (4 bytes), with magic {@code "KVCH"} the HMAC-SHA256 of the header's
 * first 56 bytes and the payload (32). {@link #check} accepts a value only if every field matches
 * what the reader expects, so a value of another namespace, rank or block, a truncated value and
 * a corrupted one are all refused, and under a value secret a forged one too: a miss, never wrong
 * KV.
 */
final class BlockValue {
    static final int MAGIC = 0x4B564331;
    static final int SIGNED_MAGIC = 0x4B564348;
    /** The header's bytes before what protects it. */
    static final int FIELDS_BYTES = 4 + 8 + 4 + BlockHash.BYTES + 8;

    static final int HEADER_BYTES = FIELDS_BYTES + 4;
    static final int SIGNED_HEADER_BYTES = FIELDS_BYTES + ValueSeal.MAC_BYTES;

    /** Why a value was refused. */
    enum Refusal {
        /** Shorter than a header, or its length field disagrees with its size. */
        TRUNCATED,
        /** Not our magic, or another namespace, rank or block. */
        FOREIGN,
        /** The checksum does not match the payload. */
        CORRUPT,
        /** Under a value secret: the MAC does not match (written without the secret, or altered). */
        FORGED
    }

    private BlockValue() {}

    /** {@return the header's size under {@code seal}} */
    static int headerBytes(ValueSeal seal) {
        return seal.signs() ? SIGNED_HEADER_BYTES : HEADER_BYTES;
    }

    /** {@return the value for {@code payload} (one slot's bytes), header first, protected by {@code seal}} */
    static byte[] encode(long namespace, int rank, BlockHash hash, MemorySegment payload, ValueSeal seal) {
        int n = Math.toIntExact(payload.byteSize());
        int header = headerBytes(seal);
        byte[] out = new byte[header + n];
        MemorySegment.copy(payload, ValueLayout.JAVA_BYTE, 0, out, header, n);
        ByteBuffer b = ByteBuffer.wrap(out)
                .putInt(seal.signs() ? SIGNED_MAGIC : MAGIC)
                .putLong(namespace)
                .putInt(rank)
                .put(hash.toBytes())
                .putLong(n);
        if (seal.signs()) {
            b.put(seal.mac(out, FIELDS_BYTES, header));
        } else {
            b.putInt(ValueSeal.crc32c(out, header, n));
        }
        return out;
    }

    /**
     * Checks {@code value} against what the reader expects, under {@code seal}.
     *
     * @return null if it is the expected block's share with {@code payloadBytes} intact bytes,
     *     otherwise why not
     */
    static Refusal check(byte[] value, long namespace, int rank, BlockHash hash, long payloadBytes, ValueSeal seal) {
        int header = headerBytes(seal);
        if (value.length < header || value.length - header != payloadBytes) {
            return Refusal.TRUNCATED;
        }
        ByteBuffer b = ByteBuffer.wrap(value);
        byte[] h = new byte[BlockHash.BYTES];
        if (b.getInt() != (seal.signs() ? SIGNED_MAGIC : MAGIC)
                || b.getLong() != namespace
                || b.getInt() != rank
                || !BlockHash.fromBytes(get(b, h)).equals(hash)) {
            return Refusal.FOREIGN;
        }
        if (b.getLong() != payloadBytes) {
            return Refusal.TRUNCATED;
        }
        if (seal.signs()) {
            byte[] expected = seal.mac(value, FIELDS_BYTES, header);
            byte[] actual = Arrays.copyOfRange(value, FIELDS_BYTES, header);
            return ValueSeal.same(expected, actual) ? null : Refusal.FORGED;
        }
        return b.getInt() == ValueSeal.crc32c(value, header, value.length - header) ? null : Refusal.CORRUPT;
    }

    /** Copies a checked value's payload into {@code slot}. */
    static void copyPayload(byte[] value, MemorySegment slot) {
        int header = value.length - Math.toIntExact(slot.byteSize());
        MemorySegment.copy(value, header, slot, ValueLayout.JAVA_BYTE, 0, value.length - header);
    }

    private static byte[] get(ByteBuffer b, byte[] into) {
        b.get(into);
        return into;
    }
}
