package io.kvconnect.core.sched;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the workers produced in one step, which {@link Scheduler#update} applies: the
 * sampled tokens, the connector's worker-side reports and the worker-side hooks that failed. The
 * executor builds it without asking the scheduler anything.
 *
 * @param sampledTokens the token sampled for each request whose work sampled (every rank samples
 *     the same)
 * @param reports what the worker sides of the connector reported
 * @param hookFailures worker-side connector hooks that threw or overran, in rank order
 */
public record StepResult(Map<String, Integer> sampledTokens, WorkerReports reports, List<HookFailure> hookFailures) {
    /** Wraps the tokens read-only and copies the failures. */
    public StepResult {
        // A read-only view, not a copy: the executor builds a fresh map per step, and copying 256
        // entries every step is measurable in the scheduler's step time.
        sampledTokens = Collections.unmodifiableMap(sampledTokens);
        Objects.requireNonNull(reports, "reports");
        hookFailures = List.copyOf(hookFailures);
    }

    /** A step's sampled tokens with nothing from a connector (no connector, or none reported anything). */
    public static StepResult tokensOnly(Map<String, Integer> sampledTokens) {
        return new StepResult(sampledTokens, WorkerReports.NONE, List.of());
    }
}
