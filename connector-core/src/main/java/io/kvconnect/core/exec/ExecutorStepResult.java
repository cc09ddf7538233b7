package io.kvconnect.core.exec;

import io.kvconnect.core.model.KvMismatch;
import io.kvconnect.core.model.MismatchCounts;
import io.kvconnect.core.sched.StepResult;
import java.util.List;
import java.util.Map;

/**
 * The executor's result of one step.
 *
 * @param stepResult what the scheduler applies: sampled tokens, the connector's worker-side
 *     reports, worker-side hook failures
 * @param mismatches KV verification mismatches of all workers (examples: at most 100 per worker)
 * @param mismatchCounts every KV verification mismatch of the step, summed over the workers, per request
 * @param computeNanos the largest wall time any worker spent inside the modelled compute window
 */
public record ExecutorStepResult(
        StepResult stepResult,
        List<KvMismatch> mismatches,
        Map<String, MismatchCounts> mismatchCounts,
        long computeNanos) {}
