package io.kvconnect.disk;

import io.kvconnect.api.common.BlockHash;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * The block files of one rank in one folder. Direct I/O ({@code O_DIRECT}) when configured and the
 * file system accepts it, tried once at open with a probe file; a file system that refuses it (tmpfs
 * does) gets buffered I/O, and the reason is logged. Files and buffers are multiples of {@link
 * BlockFileFormat#ALIGNMENT} bytes, and the buffers are aligned to it, as direct I/O requires.
 *
 * <p>The writer and the reader thread each have a buffer of their own (see {@link BlockStore} for
 * which thread calls what).
 */
final class DirectoryBlockStore implements BlockStore {
    private static final System.Logger LOG = System.getLogger(DirectoryBlockStore.class.getName());

    /**
     * Opens files with {@code O_DIRECT} where the file system takes it (probed at start; see {@link
     * #direct}). From module {@code jdk.unsupported}: the JDK's only way to ask for direct I/O.
     */
    private static final OpenOption DIRECT = com.sun.nio.file.ExtendedOpenOption.DIRECT;

    private final StoreSettings settings;
    private final boolean direct;
    private final String ioMode;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment writeBuffer;
    private final MemorySegment readBuffer;
    private final long fileBytes;

    private DirectoryBlockStore(StoreSettings settings, boolean direct, String ioMode) {
        this.settings = settings;
        this.direct = direct;
        this.ioMode = ioMode;
        this.fileBytes = BlockFileFormat.fileBytes(settings.payloadBytes());
        this.writeBuffer = arena.allocate(fileBytes, BlockFileFormat.ALIGNMENT);
        this.readBuffer = arena.allocate(fileBytes, BlockFileFormat.ALIGNMENT);
    }

    /**
     * Opens the store: creates the folder and checks that it and its parent (the namespace folder)
     * are private to this user ({@link PrivateFolder}; the worker may open it before the scheduler
     * side locked the namespace), deletes temporary files, probes direct I/O.
     */
    static BlockStore open(StoreSettings settings) throws IOException {
        Path folder = settings.folder().toAbsolutePath();
        if (folder.getParent() != null) {
            PrivateFolder.ensure(folder.getParent());
        }
        PrivateFolder.ensure(folder);
        try (DirectoryStream<Path> temps =
                Files.newDirectoryStream(settings.folder(), "*" + BlockFileFormat.TEMP_SUFFIX)) {
            for (Path temp : temps) {
                Files.deleteIfExists(temp); // a write a crashed process never finished
            }
        }
        if (!Files.isWritable(settings.folder())) {
            throw new IOException(settings.folder() + " is not writable");
        }
        if (!settings.directIo()) {
            return new DirectoryBlockStore(settings, false, "buffered (io: buffered)");
        }
        String refused = probeDirect(settings.folder());
        if (refused == null) {
            return new DirectoryBlockStore(settings, true, "direct");
        }
        LOG.log(
                Level.INFO,
                "disk rank {0}: the file system of {1} refuses direct I/O ({2}); using buffered I/O",
                settings.rank(),
                settings.folder(),
                refused);
        return new DirectoryBlockStore(settings, false, "buffered (direct I/O refused: " + refused + ")");
    }

    /** {@return null if an aligned direct write and read work in {@code folder}, else why not} */
    private static String probeDirect(Path folder) {
        Path probe = folder.resolve(".direct-probe" + BlockFileFormat.TEMP_SUFFIX);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(BlockFileFormat.ALIGNMENT, BlockFileFormat.ALIGNMENT);
            try (FileChannel ch = FileChannel.open(
                    probe,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE,
                    StandardOpenOption.READ,
                    DIRECT)) {
                ch.write(buf.asByteBuffer(), 0);
                ch.read(buf.asByteBuffer(), 0);
            }
            return null;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return e.toString();
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "cannot delete {0}: {1}", probe, e);
            }
        }
    }

    @Override
    public String ioMode() {
        return ioMode;
    }

    @Override
    public void write(BlockHash hash, MemorySegment payload) throws IOException {
        String name = BlockFileFormat.fileName(hash);
        Path temp = settings.folder().resolve(name + BlockFileFormat.TEMP_SUFFIX);
        BlockFileFormat.encode(writeBuffer, settings.namespace(), settings.rank(), hash, payload);
        try (FileChannel ch = FileChannel.open(
                temp,
                options(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE))) {
            ByteBuffer bytes = writeBuffer.asSlice(0, fileBytes).asByteBuffer();
            long position = 0;
            while (bytes.hasRemaining()) {
                position += ch.write(bytes, position);
            }
            if (settings.fsync()) {
                ch.force(true);
            }
        } catch (IOException | RuntimeException e) {
            deleteQuietly(temp);
            throw e;
        }
        try {
            Files.move(
                    temp,
                    settings.folder().resolve(name),
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(temp);
            throw e;
        }
        if (settings.fsync()) {
            // The rename is durable only once the folder is.
            try (FileChannel dir = FileChannel.open(settings.folder(), StandardOpenOption.READ)) {
                dir.force(true);
            }
        }
    }

    @Override
    public void read(BlockHash hash, MemorySegment into) throws BlockReadException {
        Path file = settings.folder().resolve(BlockFileFormat.fileName(hash));
        long size;
        try {
            // Only a regular file is opened: the open of a named pipe waits for a writer, forever,
            // and would stall this reader and every load after it; a link could lead to one.
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile()) {
                throw new BlockReadException(BlockReadException.Kind.CORRUPT, file + ": not a regular file", null);
            }
        } catch (NoSuchFileException e) {
            throw new BlockReadException(BlockReadException.Kind.MISSING, file + ": missing", e);
        } catch (BlockReadException e) {
            throw e;
        } catch (IOException e) {
            throw new BlockReadException(BlockReadException.Kind.IO, file + ": " + e, e);
        }
        // NOFOLLOW_LINKS: a link put in its place since is refused rather than followed. (A pipe
        // put there since would still be opened; only this user may write the folder.)
        try (FileChannel ch = FileChannel.open(file, options(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            size = ch.size();
            if (size != fileBytes) {
                throw new BlockReadException(
                        BlockReadException.Kind.CORRUPT, file + ": size " + size + ", expected " + fileBytes, null);
            }
            ByteBuffer bytes = readBuffer.asSlice(0, fileBytes).asByteBuffer();
            long position = 0;
            while (bytes.hasRemaining()) {
                int n = ch.read(bytes, position);
                if (n < 0) {
                    throw new BlockReadException(
                            BlockReadException.Kind.CORRUPT, file + ": shorter than its size", null);
                }
                position += n;
            }
        } catch (NoSuchFileException e) {
            throw new BlockReadException(BlockReadException.Kind.MISSING, file + ": missing", e);
        } catch (BlockReadException e) {
            throw e;
        } catch (IOException e) {
            throw new BlockReadException(BlockReadException.Kind.IO, file + ": " + e, e);
        }
        String bad = BlockFileFormat.decode(readBuffer, size, settings.namespace(), settings.rank(), hash, into);
        if (bad != null) {
            throw new BlockReadException(BlockReadException.Kind.CORRUPT, file + ": " + bad, null);
        }
    }

    @Override
    public void delete(BlockHash hash) throws IOException {
        Files.deleteIfExists(settings.folder().resolve(BlockFileFormat.fileName(hash)));
    }

    @Override
    public void close() {
        arena.close();
    }

    private OpenOption[] options(OpenOption... base) {
        List<OpenOption> all = new ArrayList<>(List.of(base));
        if (direct) {
            all.add(DIRECT);
        }
        return all.toArray(OpenOption[]::new);
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "cannot delete {0}: {1}", file, e);
        }
    }
}
