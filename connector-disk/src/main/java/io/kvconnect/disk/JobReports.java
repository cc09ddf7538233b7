package io.kvconnect.disk;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.WorkerMetadata;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which ranks finished which jobs, successfully or not (one bit per rank, so folding the reports of
 * all ranks in any order, any grouping, even twice, counts each rank once), and which blocks a load
 * found missing or corrupt on some rank.
 *
 * @param ok job id to the ranks whose job succeeded
 * @param failed job id to the ranks whose job failed
 * @param badBlocks blocks whose file a rank found missing or corrupt
 * @param copied store job id to the ranks whose GPU read ended (its file may still be being
 *     written): the GPU blocks may be given back once every rank's did
 */
record JobReports(Map<Long, Long> ok, Map<Long, Long> failed, Set<BlockHash> badBlocks, Map<Long, Long> copied)
        implements WorkerMetadata {
    JobReports {
        ok = Map.copyOf(ok);
        failed = Map.copyOf(failed);
        badBlocks = Set.copyOf(badBlocks);
        copied = Map.copyOf(copied);
    }

    /** One rank's report. */
    static JobReports of(int rank, Map<Long, Boolean> results, Set<BlockHash> badBlocks, Set<Long> copiedJobs) {
        long bit = 1L << rank;
        Map<Long, Long> ok = new HashMap<>();
        Map<Long, Long> failed = new HashMap<>();
        results.forEach((job, success) -> (success ? ok : failed).put(job, bit));
        Map<Long, Long> copied = new HashMap<>();
        copiedJobs.forEach(job -> copied.put(job, bit));
        return new JobReports(ok, failed, badBlocks, copied);
    }

    @Override
    public WorkerMetadata aggregate(WorkerMetadata other) {
        if (!(other instanceof JobReports o)) {
            throw new IllegalArgumentException(
                    "cannot aggregate disk job reports with " + other.getClass().getName());
        }
        Map<Long, Long> okSum = new HashMap<>(ok);
        o.ok.forEach((k, v) -> okSum.merge(k, v, (a, b) -> a | b));
        Map<Long, Long> failedSum = new HashMap<>(failed);
        o.failed.forEach((k, v) -> failedSum.merge(k, v, (a, b) -> a | b));
        Set<BlockHash> bad = new HashSet<>(badBlocks);
        bad.addAll(o.badBlocks);
        Map<Long, Long> copiedSum = new HashMap<>(copied);
        o.copied.forEach((k, v) -> copiedSum.merge(k, v, (a, b) -> a | b));
        return new JobReports(okSum, failedSum, bad, copiedSum);
    }
}
