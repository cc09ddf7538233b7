package io.kvconnect.tools.cli;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.config.ConnectorEntry;
import io.kvconnect.core.config.EngineConfig;

/**
 * The capacity, in engine blocks, of the host tier a capacity report judges: given with {@code
 * --tier-blocks}, or read from the offload connector's configuration, the one bundled connector
 * whose tier size this module knows: {@code capacity} bytes across all workers over the bytes of
 * one engine block across all workers, rounded down to whole offloaded blocks of {@code
 * block_multiple} engine blocks (as the connector sizes its slots).
 */
final class TierCapacity {
    private TierCapacity() {}

    /**
     * The tier's capacity in engine blocks.
     *
     * @throws ConfigException if the configuration has no connector (nothing to record), or if
     *     {@code tierBlocks} is absent and the connector is not offload, or below 1
     */
    static int blocks(EngineConfig config, Integer tierBlocks) {
        ConnectorEntry entry = config.connector()
                .orElseThrow(() -> new ConfigException(
                        "--capacity-report", "needs a connector in the configuration (set \"connector\")"));
        if (tierBlocks != null) {
            if (tierBlocks < 1) {
                throw new ConfigException("--tier-blocks", tierBlocks + " is not allowed; allowed: 1 or more blocks");
            }
            return tierBlocks;
        }
        if (!entry.name().equals("offload")) {
            throw new ConfigException(
                    "--tier-blocks",
                    "is required for connector '" + entry.name()
                            + "': the capacity report knows the tier size of the offload connector only");
        }
        long capacity = entry.config().getBytes("capacity", 0, 1, Long.MAX_VALUE);
        int multiple = entry.config().getInt("block_multiple", 1, 1, Integer.MAX_VALUE);
        int tp = config.workers();
        long perBlock = (long) tp
                * config.blockSize()
                * config.model().numLayers()
                * config.model().bytesPerTokenPerLayer(tp);
        long blocks = capacity / (perBlock * multiple) * multiple;
        return (int) Math.min(blocks, Integer.MAX_VALUE - 8);
    }
}
