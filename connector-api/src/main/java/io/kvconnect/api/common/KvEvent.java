package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A change in what KV content a storage medium holds, published so that external indexes (a
 * KV-aware router, say) can track where each prefix lives.
 *
 * <p>The engine emits these for its GPU pool; connectors emit their own from the scheduler
 * side's {@code takeEvents} and in each worker's {@code WorkerStepReport}. The engine publishes
 * the connector's events with its own once per step: the workers' first (each distinct event once,
 * as {@code ConnectorOutput} says), then the scheduler side's, in the order taken.
 *
 * <p>An event says nothing of where the medium is: the engine that publishes it adds its locality
 * (engine id, host, the tensor-parallel ranks that each hold their share of the blocks) and the
 * hash algorithm, so a connector never repeats what the engine knows ({@code docs/engine.md}, KV
 * events). With {@code BlockStored}'s parent hash and block size, and the request's token ids, a
 * consumer recomputes each block's hash independently.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public sealed interface KvEvent permits KvEvent.BlockStored, KvEvent.BlockRemoved, KvEvent.AllBlocksCleared {

    /** {@return the medium whose content changed} */
    StorageMedium medium();

    /**
     * Blocks now held by {@code medium}, in prefix order.
     *
     * @param blockHashes the stored blocks' hashes, non-empty
     * @param parent hash of the block before the first one, empty for a prefix's first block
     * @param blockSize tokens per stored block
     * @param group KV-cache group index
     * @param medium where they are held
     */
    @Stability(value = Stability.Level.EVOLVING, since = "0.1")
    record BlockStored(
            List<BlockHash> blockHashes, Optional<BlockHash> parent, int blockSize, int group, StorageMedium medium)
            implements KvEvent {
        /** Copies the list and validates. */
        public BlockStored {
            blockHashes = List.copyOf(blockHashes);
            Objects.requireNonNull(parent, "parent");
            Objects.requireNonNull(medium, "medium");
            if (blockHashes.isEmpty() || blockSize <= 0 || group < 0) {
                throw new IllegalArgumentException("BlockStored needs hashes, a positive block size and a group");
            }
        }
    }

    /**
     * Blocks no longer held by {@code medium}.
     *
     * @param blockHashes the removed blocks' hashes, non-empty
     * @param group KV-cache group index
     * @param medium where they were held
     */
    @Stability(value = Stability.Level.EVOLVING, since = "0.1")
    record BlockRemoved(List<BlockHash> blockHashes, int group, StorageMedium medium) implements KvEvent {
        /** Copies the list and validates. */
        public BlockRemoved {
            blockHashes = List.copyOf(blockHashes);
            Objects.requireNonNull(medium, "medium");
            if (blockHashes.isEmpty() || group < 0) {
                throw new IllegalArgumentException("BlockRemoved needs hashes and a group");
            }
        }
    }

    /**
     * Everything held by {@code medium} was dropped (a cache reset).
     *
     * @param medium the medium that was cleared
     */
    @Stability(value = Stability.Level.EVOLVING, since = "0.1")
    record AllBlocksCleared(StorageMedium medium) implements KvEvent {
        /** Validates. */
        public AllBlocksCleared {
            Objects.requireNonNull(medium, "medium");
        }
    }
}
