package io.kvconnect.disk;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.EngineInfo;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The validated configuration of the disk connector.
 *
 * @param directory the folder of the tier (created if missing); each namespace gets a folder in it
 * @param capacityBytes disk space of all workers' block files together
 * @param fsync whether each file is forced to the device before it is renamed into place (and the
 *     folder after): a power failure then loses no block the index offered; without it a power
 *     failure may leave files that fail their size or checksum check (misses, never wrong KV)
 * @param directIo whether to try direct I/O (bypassing the page cache); refused by some file
 *     systems (tmpfs), then buffered I/O is used and the reason logged
 * @param stagingBlocks host-buffer slots per direction and worker: at most this many blocks are
 *     waiting to be written or being read; a store that finds no free slot is dropped and counted
 * @param load whether loads are asynchronous (the request waits outside the steps) or synchronous
 */
record DiskConfig(
        Path directory, long capacityBytes, boolean fsync, boolean directIo, int stagingBlocks, LoadMode load) {
    /** Load modes. */
    enum LoadMode {
        ASYNC,
        SYNC
    }

    /** I/O modes of the {@code io} key. */
    enum IoMode {
        DIRECT,
        BUFFERED
    }

    /** The most workers a job report can tell apart (one bit per rank). */
    static final int MAX_WORKERS = 64;

    /** Reads and validates {@code config}; every error names its key and the allowed values. */
    static DiskConfig parse(ConnectorConfig config) {
        config.requireOnlyKeys("directory", "capacity", "fsync", "io", "staging_blocks", "load");
        if (!config.has("directory")) {
            throw new ConfigException(
                    config.fieldPath("directory"),
                    "is required: the folder of the block files, created if missing (such as \"/var/cache/kv\")");
        }
        String dir = config.requireString("directory");
        Path directory;
        try {
            directory = Path.of(dir).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new ConfigException(config.fieldPath("directory"), "is not a valid path: " + e.getMessage());
        }
        if (!config.has("capacity")) {
            throw new ConfigException(
                    config.fieldPath("capacity"),
                    "is required: the disk space of the tier, total across all workers, a byte size such as 64GiB");
        }
        long capacity = config.getBytes("capacity", 0, 1, Long.MAX_VALUE);
        boolean fsync = config.getBoolean("fsync", false);
        IoMode io = config.getEnum("io", IoMode.class, IoMode.DIRECT);
        int staging = config.getInt("staging_blocks", 64, 1, 1 << 16);
        LoadMode load = config.getEnum("load", LoadMode.class, LoadMode.ASYNC);
        return new DiskConfig(directory, capacity, fsync, io == IoMode.DIRECT, staging, load);
    }

    /**
     * Blocks the tier holds: {@code capacity / (workers x file size)}. Each worker holds its share of
     * every block in a file of its own.
     *
     * @throws ConfigException if the capacity holds no block or the engine has too many workers
     */
    long blocks(ConnectorConfig config, EngineInfo engine) {
        if (engine.tensorParallelSize() > MAX_WORKERS) {
            throw new ConfigException(
                    config.path(),
                    "the disk connector supports at most " + MAX_WORKERS + " workers, the engine has "
                            + engine.tensorParallelSize());
        }
        long perBlock = BlockFileFormat.fileBytes(BlockFileFormat.payloadBytes(engine)) * engine.tensorParallelSize();
        long blocks = capacityBytes / perBlock;
        if (blocks < 1) {
            throw new ConfigException(
                    config.fieldPath("capacity"),
                    capacityBytes + " bytes hold no block: one takes " + perBlock
                            + " bytes of files across all workers; allowed: at least " + perBlock + " bytes");
        }
        return blocks;
    }
}
