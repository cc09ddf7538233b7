package io.kvconnect.disk;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.EngineInfo;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The format of one block file: a header of {@link #ALIGNMENT} bytes, then the rank's share of the
 * block in the canonical layout ({@code KvLayout}), zero-padded to a multiple of {@link #ALIGNMENT}
 * (so that direct I/O reads and writes whole aligned blocks). Header fields, little-endian:
 *
 * <pre>
 *  0  int    magic "KVDK"
 *  4  int    format version ({@link Namespace#VERSION})
 *  8  long   namespace id
 * 16  int    rank
 * 20  int    zero
 * 24  32 B   block hash (big-endian, as BlockHash.toBytes)
 * 56  long   payload length
 * 64  int    CRC-32C of the payload
 * 68  int    CRC-32C of bytes 0..67
 * </pre>
 *
 * A file is named {@code <64 hex digits of the hash>.kv}; it is written as {@code <name>.tmp} and
 * renamed. Stateless; thread-safe.
 */
final class BlockFileFormat {
    /** Header size and file-size granularity; the alignment direct I/O needs on common file systems. */
    static final int ALIGNMENT = 4096;

    static final String SUFFIX = ".kv";
    static final String TEMP_SUFFIX = ".tmp";
    private static final int MAGIC = 0x4B44564B; // "KVDK" read little-endian
    private static final int HEADER_CHECKED_BYTES = 68;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Pattern NAME = Pattern.compile("[0-9a-f]{64}\\" + SUFFIX);

    private BlockFileFormat() {}

    /** {@return the bytes of one block on one rank: one host-buffer slot} */
    static long payloadBytes(EngineInfo engine) {
        return (long) engine.blockSize()
                * engine.model().numLayers()
                * engine.model().bytesPerTokenPerLayer(engine.tensorParallelSize());
    }

    /** {@return the size of a file holding {@code payloadBytes}} */
    static long fileBytes(long payloadBytes) {
        return ALIGNMENT + roundUp(payloadBytes);
    }

    static long roundUp(long bytes) {
        return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** {@return the file name of {@code hash}} */
    static String fileName(BlockHash hash) {
        return hash.toHex() + SUFFIX;
    }

    /** {@return the hash a block file's name stands for; empty for any other name} */
    static Optional<BlockHash> parse(String fileName) {
        if (!NAME.matcher(fileName).matches()) {
            return Optional.empty();
        }
        byte[] bytes = new byte[BlockHash.BYTES];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) Integer.parseInt(fileName, 2 * i, 2 * i + 2, 16);
        }
        return Optional.of(BlockHash.fromBytes(bytes));
    }

    /**
     * Fills {@code file} (at least {@link #fileBytes} long for the payload) with the header and
     * {@code payload}, zero padding included.
     */
    static void encode(MemorySegment file, long namespace, int rank, BlockHash hash, MemorySegment payload) {
        long length = payload.byteSize();
        // Zero only what the payload does not overwrite: the header block and the padding.
        file.asSlice(0, ALIGNMENT).fill((byte) 0);
        file.asSlice(ALIGNMENT + length, fileBytes(length) - ALIGNMENT - length).fill((byte) 0);
        file.set(INT, 0, MAGIC);
        file.set(INT, 4, Namespace.VERSION);
        file.set(LONG, 8, namespace);
        file.set(INT, 16, rank);
        MemorySegment.copy(MemorySegment.ofArray(hash.toBytes()), 0, file, 24, BlockHash.BYTES);
        file.set(LONG, 56, length);
        file.set(INT, 64, crc(payload));
        file.set(INT, HEADER_CHECKED_BYTES, crc(file.asSlice(0, HEADER_CHECKED_BYTES)));
        MemorySegment.copy(payload, 0, file, ALIGNMENT, length);
    }

    /**
     * Checks the header and checksum of a file read into {@code file} ({@code size} bytes of it
     * were read) and copies its payload into {@code into}.
     *
     * @return null if the file is good, else why it is not
     */
    static String decode(MemorySegment file, long size, long namespace, int rank, BlockHash hash, MemorySegment into) {
        long length = into.byteSize();
        if (size != fileBytes(length)) {
            return "size " + size + ", expected " + fileBytes(length);
        }
        if (file.get(INT, 0) != MAGIC || file.get(INT, 4) != Namespace.VERSION) {
            return "not a block file of format version " + Namespace.VERSION;
        }
        if (file.get(INT, HEADER_CHECKED_BYTES) != crc(file.asSlice(0, HEADER_CHECKED_BYTES))) {
            return "header checksum mismatch";
        }
        if (file.get(LONG, 8) != namespace || file.get(INT, 16) != rank) {
            return "written for another namespace or rank";
        }
        byte[] stored = file.asSlice(24, BlockHash.BYTES).toArray(ValueLayout.JAVA_BYTE);
        if (!BlockHash.fromBytes(stored).equals(hash)) {
            return "holds another block";
        }
        if (file.get(LONG, 56) != length) {
            return "payload length " + file.get(LONG, 56) + ", expected " + length;
        }
        MemorySegment payload = file.asSlice(ALIGNMENT, length);
        if (file.get(INT, 64) != crc(payload)) {
            return "payload checksum mismatch";
        }
        MemorySegment.copy(payload, 0, into, 0, length);
        return null;
    }

    static int crc(MemorySegment bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.asByteBuffer());
        return (int) crc.getValue();
    }
}
