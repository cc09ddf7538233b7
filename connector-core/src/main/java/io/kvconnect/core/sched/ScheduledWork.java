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
public record ScheduledWork(
        String requestId,
        ScheduledRequest.Kind kind,
        int start,
        int numTokens,
        int[] tokens,
        int[] prefixTokens,
        int[] blockTable,
        boolean samples,
        int externalTokens) {
    private static final int[] NONE = new int[0];

    /**
     * Whether this is a decode: one position whose token is sampled. Everything else is prefill
     * (a prompt, a chunk of one, or the recomputation of a preempted request). The modelled cost
     * and the engine's prefill token count use this one definition.
     */
    public boolean decodes() {
        return numTokens == 1 && samples;
    }

    /**
     * The work of {@code r} computing {@code numNew} positions from where it is scheduled through;
     * {@code blocks} are the block table (NEW, RESUMED) or the blocks added in this step.
     */
    static ScheduledWork of(Request r, ScheduledRequest.Kind kind, int numNew, int[] blocks, int externalTokens) {
        int start = r.scheduledThrough();
        int known = Math.max(0, Math.min(numNew, r.numTokens() - start));
        // Under asynchronous scheduling the workers may know tokens the scheduler does not yet
        // (in flight, or held back until a load settles): then start is past the known tokens.
        int[] tokens = known == 0 ? NONE : r.tokenIds(start, start + known);
        int[] prefix = kind == ScheduledRequest.Kind.CONTINUING ? NONE : r.tokenIds(0, start);
        boolean samples = start + numNew >= r.numTokens();
        return new ScheduledWork(r.requestId(), kind, start, numNew, tokens, prefix, blocks, samples, externalTokens);
    }
}
