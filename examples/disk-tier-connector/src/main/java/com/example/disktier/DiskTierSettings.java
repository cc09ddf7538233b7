package com.example.disktier;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.EngineInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The validated configuration of the {@code disk-tier} connector.
 *
 * @param directory the folder of the tier's files, created if missing
 * @param capacityBlocks the most blocks the tier keeps on disk
 */
record DiskTierSettings(Path directory, int capacityBlocks) {
    static final String DIRECTORY = "directory";
    static final String CAPACITY = "capacity";
    static final long DEFAULT_CAPACITY = 1L << 30;

    /**
     * Reads and validates {@code config} for {@code engine}, and creates the directory if missing.
     * Called by the provider for each side, on the engine's start-up thread.
     *
     * @throws ConfigException naming the field: an unknown key, a missing or blank directory, or one
     *     that cannot be created; a capacity that is not a byte size or holds not even one block
     */
    static DiskTierSettings from(ConnectorConfig config, EngineInfo engine) {
        config.requireOnlyKeys(DIRECTORY, CAPACITY);
        String name = config.requireString(DIRECTORY);
        if (name.isBlank()) {
            throw new ConfigException(config.fieldPath(DIRECTORY), "must not be blank");
        }
        long capacity = config.getBytes(CAPACITY, DEFAULT_CAPACITY, 1, Long.MAX_VALUE);
        long perBlock = BlockFiles.fileBytes(engine) * engine.tensorParallelSize();
        if (capacity / perBlock < 1) {
            throw new ConfigException(config.fieldPath(CAPACITY), capacity + " bytes hold no block: one takes "
                    + perBlock + " bytes on disk across all workers; allowed: at least " + perBlock + " bytes");
        }
        Path directory;
        try {
            directory = Path.of(name);
        } catch (InvalidPathException e) {
            throw new ConfigException(config.fieldPath(DIRECTORY), "'" + name + "' is not a path: " + e.getReason());
        }
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new ConfigException(config.fieldPath(DIRECTORY), "cannot create the directory " + directory + " ("
                    + e + ")");
        }
        return new DiskTierSettings(directory, (int) Math.min(capacity / perBlock, Integer.MAX_VALUE));
    }
}
