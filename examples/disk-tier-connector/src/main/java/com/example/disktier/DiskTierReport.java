package com.example.disktier;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.WorkerMetadata;
import java.util.HashSet;
import java.util.Set;

/**
 * What the workers tell the scheduler side beyond finished sends: which stores failed and which
 * files turned out to be bad. Aggregated over workers by union, which counts a rank's report once
 * however the engine groups them; neither operand changes.
 *
 * @param failedStores blocks a store did not write on some worker, with the request that stored them
 * @param badFiles blocks whose file was missing, short or corrupt when a load read it
 */
record DiskTierReport(Set<FailedStore> failedStores, Set<BlockHash> badFiles) implements WorkerMetadata {
    DiskTierReport {
        failedStores = Set.copyOf(failedStores);
        badFiles = Set.copyOf(badFiles);
    }

    /** Block {@code hash} of {@code requestId}'s store was not written. */
    record FailedStore(String requestId, BlockHash hash) {
    }

    @Override
    public DiskTierReport aggregate(WorkerMetadata other) {
        if (!(other instanceof DiskTierReport o)) {
            throw new IllegalArgumentException("cannot aggregate " + DiskTierReport.class.getName() + " with "
                    + (other == null ? "null" : other.getClass().getName()));
        }
        Set<FailedStore> failed = new HashSet<>(failedStores);
        failed.addAll(o.failedStores);
        Set<BlockHash> bad = new HashSet<>(badFiles);
        bad.addAll(o.badFiles);
        return new DiskTierReport(failed, bad);
    }
}
