package io.kvconnect.offload;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.EngineInfo;

/**
 * The validated configuration of the offload connector.
 *
 * @param capacityBytes host memory of the tier across all workers
 * @param blockMultiple engine blocks per offloaded block: the unit of storing, loading, eviction and keys
 * @param eviction the eviction policy
 * @param storeThreshold store a block only after its key was looked up this many times; 0 = always
 * @param load whether loads are asynchronous or synchronous
 */
record OffloadConfig(long capacityBytes, int blockMultiple, Eviction eviction, int storeThreshold, LoadMode load) {
    /** Eviction policies. */
    enum Eviction {
        LRU,
        ARC
    }

    /** Load modes. */
    enum LoadMode {
        ASYNC,
        SYNC
    }

    /** The largest {@code block_multiple}. */
    static final int MAX_BLOCK_MULTIPLE = 1024;

    /** The most workers a job report can tell apart (one bit per rank). */
    static final int MAX_WORKERS = 64;

    /** Reads and validates {@code config}; every error names its key and the allowed values. */
    static OffloadConfig parse(ConnectorConfig config) {
        config.requireOnlyKeys("capacity", "block_multiple", "eviction", "store_threshold", "load");
        if (!config.has("capacity")) {
            throw new ConfigException(
                    config.fieldPath("capacity"),
                    "is required: the host memory of the tier, total across all workers, a byte size such as "
                            + "512MiB or 8GiB");
        }
        long capacity = config.getBytes("capacity", 0, 1, Long.MAX_VALUE);
        int multiple = config.getInt("block_multiple", 1, 1, MAX_BLOCK_MULTIPLE);
        Eviction eviction = config.getEnum("eviction", Eviction.class, Eviction.LRU);
        int threshold = config.getInt("store_threshold", 0, 0, 1_000_000);
        LoadMode load = config.getEnum("load", LoadMode.class, LoadMode.ASYNC);
        return new OffloadConfig(capacity, multiple, eviction, threshold, load);
    }

    /** Bytes of one engine block summed over all workers. */
    static long bytesPerBlockAllWorkers(EngineInfo engine) {
        int tp = engine.tensorParallelSize();
        return (long) tp
                * engine.blockSize()
                * engine.model().numLayers()
                * engine.model().bytesPerTokenPerLayer(tp);
    }

    /**
     * Offloaded blocks the tier holds: {@code capacity / (blockMultiple * bytesPerBlockAllWorkers)}.
     * Each worker holds its share of every offloaded block, so every worker has the same number of
     * slots and uses the same slot numbers; a worker's host buffer has {@code blockMultiple} engine
     * block slots per offloaded block.
     *
     * @throws ConfigException if the capacity holds no offloaded block or the engine has too many workers
     */
    int slots(ConnectorConfig config, EngineInfo engine) {
        if (engine.tensorParallelSize() > MAX_WORKERS) {
            throw new ConfigException(
                    config.path(),
                    "the offload connector supports at most " + MAX_WORKERS + " workers, the engine has "
                            + engine.tensorParallelSize());
        }
        long perBlock = bytesPerBlockAllWorkers(engine) * blockMultiple;
        long slots = capacityBytes / perBlock;
        if (slots < 1) {
            throw new ConfigException(
                    config.fieldPath("capacity"),
                    capacityBytes + " bytes hold no offloaded block: "
                            + "one takes " + perBlock + " bytes across all workers (" + blockMultiple
                            + " engine block(s)); allowed: at least " + perBlock + " bytes");
        }
        if (slots * blockMultiple > Integer.MAX_VALUE - 8) {
            throw new ConfigException(
                    config.fieldPath("capacity"),
                    capacityBytes + " bytes are " + slots * blockMultiple
                            + " engine blocks per worker; allowed: at most " + (Integer.MAX_VALUE - 8));
        }
        return (int) slots;
    }
}
