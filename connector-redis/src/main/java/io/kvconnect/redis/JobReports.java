package io.kvconnect.redis;

import io.kvconnect.api.common.WorkerMetadata;
import java.util.HashMap;
import java.util.Map;

/**
 * Which ranks finished which jobs, one bit per rank, so folding the reports of all ranks (in any
 * order, any grouping, even twice) counts each rank once.
 *
 * @param released store job id to the ranks that no longer read its GPU blocks (copied out, or
 *     never started): the scheduler side frees them once every rank has
 * @param ok job id to the ranks on which it succeeded (a store: written to Redis; a load: in the
 *     KV cache)
 * @param failed job id to the ranks on which it failed
 */
record JobReports(Map<Long, Long> released, Map<Long, Long> ok, Map<Long, Long> failed) implements WorkerMetadata {
    JobReports {
        released = Map.copyOf(released);
        ok = Map.copyOf(ok);
        failed = Map.copyOf(failed);
    }

    /** One rank's report. */
    static JobReports of(int rank, Iterable<Long> released, Map<Long, Boolean> results) {
        long bit = 1L << rank;
        Map<Long, Long> rel = new HashMap<>();
        released.forEach(job -> rel.put(job, bit));
        Map<Long, Long> ok = new HashMap<>();
        Map<Long, Long> failed = new HashMap<>();
        results.forEach((job, success) -> (success ? ok : failed).put(job, bit));
        return new JobReports(rel, ok, failed);
    }

    @Override
    public WorkerMetadata aggregate(WorkerMetadata other) {
        if (!(other instanceof JobReports o)) {
            throw new IllegalArgumentException("cannot aggregate redis job reports with "
                    + other.getClass().getName());
        }
        return new JobReports(or(released, o.released), or(ok, o.ok), or(failed, o.failed));
    }

    private static Map<Long, Long> or(Map<Long, Long> a, Map<Long, Long> b) {
        Map<Long, Long> sum = new HashMap<>(a);
        b.forEach((k, v) -> sum.merge(k, v, (x, y) -> x | y));
        return sum;
    }
}
