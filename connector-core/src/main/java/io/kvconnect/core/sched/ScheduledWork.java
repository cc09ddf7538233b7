package io.kvconnect.core.sched;

import io.kvconnect.api.scheduler.ScheduledRequest;

/**
 * What the workers compute for one request in one step.
 *
 * @param requestId the request
 * @param kind why it is in the step; for NEW and RESUMED the workers (re)build its state
 * @param start the first position computed
 * @param numTokens positions computed, {@code [start, start + numTokens)}
 * @param tokens the known token ids of {@code [start, start + tokens.length)}; under asynchronous
 *     scheduling the last position may be a token only the workers know (sampled in the previous
 *     step), then {@code tokens.length == numTokens - 1}
 * @param prefixTokens for NEW and RESUMED, the token ids of {@code [0, start)} (computed or loaded
 *     before); otherwise empty
 * @param blockTable for NEW and RESUMED every block of the request; otherwise the blocks added in
 *     this step
 * @param samples whether the step samples a token for it (its last known position is computed)
 * @param externalTokens tokens a connector loads synchronously into its blocks in this step
 */
public record ScheduledWork(String requestId, ScheduledRequest.Kind kind, int start, int numTokens, int[] tokens,
                            int[] prefixTokens, int[] blockTable, boolean samples, int externalTokens) {
}
