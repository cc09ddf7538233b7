package com.example.disktier;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import java.util.List;
import java.util.Objects;

/**
 * One step's orders from the scheduler side to every worker. Immutable, as the API requires: the
 * same object reaches every worker thread.
 *
 * @param loads files to read into GPU blocks before the step's forward pass
 * @param stores GPU blocks of finished requests to write to files, after the forward pass
 * @param evictions blocks whose files to delete, before this step's stores
 */
record DiskTierMetadata(List<Load> loads, List<Store> stores, List<BlockHash> evictions) implements ConnectorMetadata {
    static final DiskTierMetadata EMPTY = new DiskTierMetadata(List.of(), List.of(), List.of());

    DiskTierMetadata {
        loads = List.copyOf(loads);
        stores = List.copyOf(stores);
        evictions = List.copyOf(evictions);
    }

    /**
     * Read block {@code hashes[i]}'s file into GPU block {@code gpuBlocks[i]}.
     *
     * @param hashes the blocks to read, in prefix order
     * @param gpuBlocks the external range of the request's load, as many as {@code hashes}
     */
    record Load(List<BlockHash> hashes, BlockIds gpuBlocks) {
        Load {
            hashes = List.copyOf(hashes);
            if (hashes.isEmpty() || hashes.size() != gpuBlocks.size()) {
                throw new IllegalArgumentException("a load needs as many GPU blocks as hashes, at least one");
            }
        }
    }

    /**
     * Write GPU block {@code gpuBlocks[i]} as block {@code hashes[i]}'s file, then report {@code
     * requestId} in finished sends.
     *
     * @param requestId the finished request whose blocks the engine keeps until then
     * @param hashes the blocks to write
     * @param gpuBlocks where they are, as many as {@code hashes}
     */
    record Store(String requestId, List<BlockHash> hashes, BlockIds gpuBlocks) {
        Store {
            Objects.requireNonNull(requestId, "requestId");
            hashes = List.copyOf(hashes);
            if (hashes.isEmpty() || hashes.size() != gpuBlocks.size()) {
                throw new IllegalArgumentException("a store needs as many GPU blocks as hashes, at least one");
            }
        }
    }
}
