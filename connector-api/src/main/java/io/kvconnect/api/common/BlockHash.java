package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.util.HexFormat;

/**
 * The 256-bit chained hash of one full KV block: a digest over the parent block's hash, the
 * block's token ids and its extra keys (such as a cache salt). Because the chain starts at the
 * first block, equal hashes mean equal prefixes, so a connector may key stored KV by it.
 *
 * <p>Held as four longs so that it is a plain value (no array, cheap to compare and to use as a
 * map key). Stable across processes of the same engine version and hash seed.
 *
 * @param h0 bits 255..192
 * @param h1 bits 191..128
 * @param h2 bits 127..64
 * @param h3 bits 63..0
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public record BlockHash(long h0, long h1, long h2, long h3) {
    /** Number of bytes in {@link #toBytes()}. */
    public static final int BYTES = 32;

    /**
     * {@return the hash held in {@code bytes}}
     *
     * @param bytes 32 bytes, big-endian, as {@link #toBytes()} writes them
     * @throws IllegalArgumentException if {@code bytes} is not 32 bytes long
     */
    public static BlockHash fromBytes(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("a block hash has 32 bytes, got " + bytes.length);
        }
        return new BlockHash(readLong(bytes, 0), readLong(bytes, 8), readLong(bytes, 16), readLong(bytes, 24));
    }

    /** {@return the hash as 32 big-endian bytes (a fresh array)} */
    public byte[] toBytes() {
        byte[] out = new byte[BYTES];
        writeLong(out, 0, h0);
        writeLong(out, 8, h1);
        writeLong(out, 16, h2);
        writeLong(out, 24, h3);
        return out;
    }

    /** {@return the hash as 64 lower-case hex digits} */
    public String toHex() {
        return HexFormat.of().formatHex(toBytes());
    }

    @Override
    public String toString() {
        return toHex().substring(0, 16);
    }

    private static long readLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xFF);
        }
        return v;
    }

    private static void writeLong(byte[] b, int off, long v) {
        for (int i = 7; i >= 0; i--) {
            b[off + i] = (byte) v;
            v >>>= 8;
        }
    }
}
