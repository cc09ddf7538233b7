package io.kvconnect.core.sched;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the workers produced in one step, which {@link Scheduler#update} applies: the
 * sampled tokens, the connector's worker-side reports and the worker-side hooks that failed. The
 * executor builds it without asking the scheduler anything.
 *
 * @param sampledTokens the token sampled for each work entry that sampled (every rank samples the
 *     same)
 * @param reports what the worker sides of the connector reported
 * @param hookFailures worker-side connector hooks that threw or overran, in rank order
 */
public record StepResult(SampledTokens sampledTokens, WorkerReports reports, List<HookFailure> hookFailures) {
    /** Copies the failures. */
    public StepResult {
        Objects.requireNonNull(sampledTokens, "sampledTokens");
        Objects.requireNonNull(reports, "reports");
        hookFailures = List.copyOf(hookFailures);
    }

    /** A step's sampled tokens with nothing from a connector (no connector, or none reported anything). */
    public static StepResult tokensOnly(SampledTokens sampledTokens) {
        return new StepResult(sampledTokens, WorkerReports.NONE, List.of());
    }

    /** {@link #tokensOnly(SampledTokens)} with tokens by request id. */
    public static StepResult tokensOnly(Map<String, Integer> sampledTokens) {
        return tokensOnly(SampledTokens.byId(sampledTokens));
    }
}
