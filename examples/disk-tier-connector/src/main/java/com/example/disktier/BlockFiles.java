package com.example.disktier;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.EngineInfo;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * Where the tier's files live and what is in them. One file per block and worker, in a folder per
 * model, worker count and rank, named by the block's chained hash:
 * {@code <directory>/<model>-tp<workers>/rank<rank>/<64 hex digits>.kv}. The hash names the whole
 * token prefix up to the block, so a file holds the same bytes whichever request or run wrote it.
 *
 * <p>A file is a 16-byte header (magic, CRC-32C of the payload, payload length) followed by the
 * block's canonical bytes on that rank ({@code KvLayout}). It is written under a temporary name
 * and then renamed atomically, so a process that dies mid-write never leaves a half block under a
 * block's name; {@link #read} refuses a file whose size, header or checksum is off (a disk that
 * lost data in a power failure, a truncated or edited file).
 *
 * <p>Stateless; every method may be called from any thread. The tier never writes one file from
 * two threads: each rank has one writer thread, and a rank's folder is that rank's alone.
 */
final class BlockFiles {
    static final String SUFFIX = ".kv";
    static final int HEADER_BYTES = 16;
    private static final int MAGIC = 0x4B564454; // "KVDT"
    private static final Pattern NAME = Pattern.compile("[0-9a-f]{64}\\" + SUFFIX);

    private BlockFiles() {
    }

    /** {@return the folder of rank {@code rank}'s files under {@code root}} */
    static Path rankDirectory(Path root, EngineInfo engine, int rank) {
        String model = engine.model().name().replaceAll("[^A-Za-z0-9._-]", "_");
        return root.resolve(model + "-tp" + engine.tensorParallelSize()).resolve("rank" + rank);
    }

    /** {@return the bytes of one block on one rank: what a host-buffer slot holds} */
    static long payloadBytes(EngineInfo engine) {
        return (long) engine.blockSize() * engine.model().numLayers()
                * engine.model().bytesPerTokenPerLayer(engine.tensorParallelSize());
    }

    /** {@return the size of one block's file on one rank} */
    static long fileBytes(EngineInfo engine) {
        return HEADER_BYTES + payloadBytes(engine);
    }

    /** {@return the file name of {@code hash}: its 64 lower-case hex digits and {@value #SUFFIX}} */
    static String fileName(BlockHash hash) {
        return hash.toHex() + SUFFIX;
    }

    /** {@return the hash a file name stands for; empty for any other name (temporary files too)} */
    static Optional<BlockHash> parse(String fileName) {
        if (!NAME.matcher(fileName).matches()) {
            return Optional.empty();
        }
        return Optional.of(BlockHash.fromBytes(HexFormat.of().parseHex(fileName, 0, 64)));
    }

    /**
     * Writes {@code block} as {@code hash}'s file in {@code dir}: to a temporary file first, then
     * renamed over any earlier file of the same name in one atomic step.
     *
     * @throws IOException if the file could not be written; then no file of that name was created
     */
    static void write(Path dir, BlockHash hash, MemorySegment block) throws IOException {
        ByteBuffer payload = block.asByteBuffer();
        CRC32C crc = new CRC32C();
        crc.update(payload.duplicate());
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).putInt(MAGIC).putInt((int) crc.getValue())
                .putLong(block.byteSize()).flip();
        Path temporary = Files.createTempFile(dir, hash.toString(), ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                while (header.hasRemaining() || payload.hasRemaining()) {
                    channel.write(new ByteBuffer[] {header, payload});
                }
            }
            Files.move(temporary, dir.resolve(fileName(hash)), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary); // gone after the move; left only by a failed write
        }
    }

    /**
     * Reads {@code file} into {@code into}, checking it first: its size must be the header plus
     * {@code into}'s size, and its magic, length and checksum must match.
     *
     * @throws NoSuchFileException if there is no such file
     * @throws IOException if it cannot be read or fails a check (the message says which); {@code
     *     into} then holds undefined content
     */
    static void read(Path file, MemorySegment into) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size != HEADER_BYTES + into.byteSize()) {
                throw new IOException(file + ": " + size + " bytes, expected " + (HEADER_BYTES + into.byteSize()));
            }
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
            ByteBuffer payload = into.asByteBuffer();
            while (header.hasRemaining() || payload.hasRemaining()) {
                if (channel.read(new ByteBuffer[] {header, payload}) < 0) {
                    throw new EOFException(file + ": shorter than its size said");
                }
            }
            header.flip();
            int magic = header.getInt();
            int checksum = header.getInt();
            long length = header.getLong();
            CRC32C crc = new CRC32C();
            crc.update(payload.flip());
            if (magic != MAGIC || length != into.byteSize() || (int) crc.getValue() != checksum) {
                throw new IOException(file + ": not a disk-tier block file, or corrupt (header or checksum)");
            }
        }
    }

    /**
     * {@return the block files in {@code dir} of exactly {@code fileBytes} bytes, with their last
     * modification time} The hashes of block files of any other size go to {@code wrongSize}; other
     * files are ignored. A missing folder holds no files.
     *
     * @throws IOException if the folder cannot be listed
     */
    static Map<BlockHash, FileTime> list(Path dir, long fileBytes, Set<BlockHash> wrongSize) throws IOException {
        Map<BlockHash, FileTime> found = new HashMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                Optional<BlockHash> hash = parse(file.getFileName().toString());
                if (hash.isEmpty()) {
                    continue;
                }
                BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                if (attributes.isRegularFile() && attributes.size() == fileBytes) {
                    found.put(hash.get(), attributes.lastModifiedTime());
                } else {
                    wrongSize.add(hash.get());
                }
            }
        } catch (NoSuchFileException e) {
            return Map.of();
        }
        return found;
    }

    /** Deletes the temporary files a process that died while writing left in {@code dir}. */
    static void deleteTemporaryFiles(Path dir) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.tmp")) {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
        }
    }
}
