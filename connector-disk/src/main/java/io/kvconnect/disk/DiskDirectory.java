package io.kvconnect.disk;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.EngineInfo;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scheduler side's hold on its namespace folder: the lock that keeps a second engine off it, and
 * the scan that finds the blocks an earlier engine left. Scheduler thread only.
 *
 * <p>The lock is an OS file lock ({@link FileChannel#tryLock}) on {@code <namespace>/lock}, held
 * until {@link #close}: a second engine (in this process or another) on the same directory and
 * namespace is refused with a configuration error naming the directory. The OS releases the lock
 * when a process dies, so a crashed engine never keeps the directory locked.
 */
final class DiskDirectory implements AutoCloseable {
    private final FileChannel lockChannel;
    private final FileLock lock;

    private DiskDirectory(FileChannel lockChannel, FileLock lock) {
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Creates the namespace folder if missing (private to this user, see {@link PrivateFolder}),
     * writes its description, and takes its lock.
     *
     * @throws ConfigException if the folder cannot be created or written, other users may write it
     *     or its root, or another engine holds it
     */
    static DiskDirectory lock(Path root, Namespace namespace, ConnectorConfig config) {
        Path folder = namespace.folder(root);
        FileChannel channel;
        try {
            PrivateFolder.checkRoot(root);
            PrivateFolder.ensure(folder);
        } catch (PrivateFolder.NotPrivateException e) {
            throw new ConfigException(config.fieldPath("directory"), e.getMessage());
        } catch (IOException | SecurityException e) {
            throw new ConfigException(
                    config.fieldPath("directory"),
                    "cannot create or write " + folder + " (" + e + "); allowed: a folder this process may write");
        }
        try {
            Path description = folder.resolve("namespace.txt");
            if (!Files.exists(description)) {
                Files.writeString(description, namespace.description() + "\n", StandardCharsets.UTF_8);
            }
            channel = FileChannel.open(folder.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException | SecurityException e) {
            throw new ConfigException(
                    config.fieldPath("directory"),
                    "cannot create or write " + folder + " (" + e + "); allowed: a folder this process may write");
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by another engine of this process
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ConfigException(config.fieldPath("directory"), "cannot lock " + folder + "/lock: " + e);
        }
        if (lock == null) {
            closeQuietly(channel);
            throw new ConfigException(
                    config.fieldPath("directory"),
                    folder + " is in use by another engine (it holds " + folder.resolve("lock")
                            + "); give each engine a directory of its own");
        }
        return new DiskDirectory(channel, lock);
    }

    /**
     * What a scan of the rank folders found.
     *
     * @param complete blocks with a file of the right size on every rank, oldest first
     * @param partial blocks with a file on some ranks only, or of a wrong size: to delete
     */
    record Found(List<BlockHash> complete, Set<BlockHash> partial) {}

    /**
     * Lists every rank folder once: time linear in the number of files, which the capacity bounds
     * (plus what an engine with a larger capacity left). Missing folders hold nothing.
     *
     * @throws ConfigException if a folder cannot be listed
     */
    static Found scan(Path root, Namespace namespace, EngineInfo engine, ConnectorConfig config) {
        int ranks = engine.tensorParallelSize();
        long fileBytes = BlockFileFormat.fileBytes(BlockFileFormat.payloadBytes(engine));
        Map<BlockHash, Integer> counts = new HashMap<>();
        Map<BlockHash, Long> oldest = new HashMap<>();
        Set<BlockHash> partial = new HashSet<>();
        for (int rank = 0; rank < ranks; rank++) {
            Path folder = namespace.rankFolder(root, rank);
            try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*" + BlockFileFormat.SUFFIX)) {
                for (Path file : files) {
                    var hash = BlockFileFormat.parse(file.getFileName().toString());
                    if (hash.isEmpty()) {
                        continue;
                    }
                    BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                    if (!a.isRegularFile() || a.size() != fileBytes) {
                        partial.add(hash.get());
                        continue;
                    }
                    counts.merge(hash.get(), 1, Integer::sum);
                    oldest.merge(hash.get(), a.lastModifiedTime().toMillis(), Math::min);
                }
            } catch (NoSuchFileException e) {
                // Nothing stored by this rank yet.
            } catch (IOException e) {
                throw new ConfigException(config.fieldPath("directory"), "cannot list " + folder + ": " + e);
            }
        }
        List<BlockHash> complete = new ArrayList<>();
        counts.forEach((hash, n) -> {
            if (n == ranks && !partial.contains(hash)) {
                complete.add(hash);
            } else {
                partial.add(hash);
            }
        });
        complete.sort(Comparator.comparingLong(oldest::get));
        return new Found(complete, partial);
    }

    /** Releases the lock. Idempotent. */
    @Override
    public void close() {
        try {
            if (lock.isValid()) {
                lock.release();
            }
        } catch (IOException e) {
            // The channel's close below releases it too.
        }
        closeQuietly(lockChannel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing left to do: closing releases the lock either way.
        }
    }
}
