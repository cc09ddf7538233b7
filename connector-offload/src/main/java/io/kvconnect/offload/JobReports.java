package io.kvconnect.offload;

import io.kvconnect.api.common.WorkerMetadata;
import java.util.HashMap;
import java.util.Map;

/**
 * Which ranks finished which copy jobs, successfully or not: one bit per rank, so folding the
 * reports of all ranks (in any order, any grouping, even twice) counts each rank once.
 *
 * @param ok job id to the ranks whose copy succeeded
 * @param failed job id to the ranks whose copy failed
 */
record JobReports(Map<Long, Long> ok, Map<Long, Long> failed) implements WorkerMetadata {
    JobReports {
        ok = Map.copyOf(ok);
        failed = Map.copyOf(failed);
    }

    /** One rank's report. */
    static JobReports of(int rank, Map<Long, Boolean> results) {
        long bit = 1L << rank;
        Map<Long, Long> ok = new HashMap<>();
        Map<Long, Long> failed = new HashMap<>();
        results.forEach((job, success) -> (success ? ok : failed).put(job, bit));
        return new JobReports(ok, failed);
    }

    @Override
    public WorkerMetadata aggregate(WorkerMetadata other) {
        if (!(other instanceof JobReports o)) {
            throw new IllegalArgumentException("cannot aggregate offload job reports with "
                    + other.getClass().getName());
        }
        Map<Long, Long> okSum = new HashMap<>(ok);
        o.ok.forEach((k, v) -> okSum.merge(k, v, (a, b) -> a | b));
        Map<Long, Long> failedSum = new HashMap<>(failed);
        o.failed.forEach((k, v) -> failedSum.merge(k, v, (a, b) -> a | b));
        return new JobReports(okSum, failedSum);
    }
}
