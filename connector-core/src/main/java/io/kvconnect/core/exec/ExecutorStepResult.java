package io.kvconnect.core.exec;

import io.kvconnect.core.model.KvMismatch;
import io.kvconnect.core.sched.ModelOutput;
import java.util.List;

/**
 * The executor's result of one step.
 *
 * @param modelOutput what the scheduler needs: sampled tokens, aggregated connector output,
 *     requests failed by worker-side hook failures
 * @param mismatches KV verification mismatches of all workers
 * @param computeNanos the largest wall time any worker spent inside the modelled compute window
 * @param hookFailures worker-side connector hooks that threw
 */
public record ExecutorStepResult(ModelOutput modelOutput, List<KvMismatch> mismatches, long computeNanos,
                                 List<HookFailure> hookFailures) {
}
