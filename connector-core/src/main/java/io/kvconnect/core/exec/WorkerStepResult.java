package io.kvconnect.core.exec;

import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.model.KvMismatch;
import io.kvconnect.core.model.MismatchCounts;
import io.kvconnect.core.sched.HookFailure;
import io.kvconnect.core.sched.SampledTokens;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One worker's result of one step.
 *
 * @param rank the worker
 * @param sampledTokens tokens sampled (every rank samples the same, from the all-reduced digests)
 * @param connectorReport this worker's connector report, with the blocks the engine found a load did
 *     not fill among its failed-load blocks; {@code null} without a connector
 * @param hookFailures connector hooks that threw
 * @param mismatches KV verification mismatches found in this step (at most 100)
 * @param mismatchCounts every KV verification mismatch of this step, counted per request
 * @param computeNanos wall time covered by the modelled compute cost: the simulated model compute
 *     and the wait that lets the copy stream use the rest of the modelled compute window
 */
record WorkerStepResult(
        int rank,
        SampledTokens sampledTokens,
        @Nullable WorkerStepReport connectorReport,
        List<HookFailure> hookFailures,
        List<KvMismatch> mismatches,
        Map<String, MismatchCounts> mismatchCounts,
        long computeNanos) {}
