package io.kvconnect.core.sched;

import io.kvconnect.api.scheduler.ScheduledRequest;
import java.util.Arrays;
import java.util.Objects;

/**
 * What the workers compute for one request in one step. Immutable once built; built on the
 * scheduler thread and read by the workers.
 *
 * <p>The known tokens are a window on the request's own token array, not a copy: a request's
 * tokens are only ever appended, so positions below its token count never change (when the array
 * grows, the old one keeps its contents), and a decode step, which knows one token, copied a
 * one-element array per request and step before. The window is read only through {@link
 * #numKnownTokens()} and {@link #token(int)}.
 */
public final class ScheduledWork {
    private static final int[] NONE = new int[0];

    private final String requestId;
    private final ScheduledRequest.Kind kind;
    private final int start;
    private final int numTokens;
    private final int[] tokenBuffer;
    private final int tokenOffset;
    private final int numKnownTokens;
    private final int[] prefixTokens;
    private final int[] blockTable;
    private final boolean samples;
    private final int externalTokens;

    /**
     * @param requestId the request
     * @param kind why it is in the step; for NEW and RESUMED the workers (re)build its state
     * @param start the first position computed
     * @param numTokens positions computed, {@code [start, start + numTokens)}
     * @param tokens the known token ids of {@code [start, start + tokens.length)}; under asynchronous
     *     scheduling the last position may be a token only the workers know (sampled in the previous
     *     step), then {@code tokens.length == numTokens - 1}; taken, not copied
     * @param prefixTokens for NEW and RESUMED, the token ids of {@code [0, start)} (computed or loaded
     *     before); otherwise empty
     * @param blockTable for NEW and RESUMED every block of the request; otherwise the blocks added in
     *     this step
     * @param samples whether the step samples a token for it (its last known position is computed)
     * @param externalTokens tokens a connector loads synchronously into its blocks in this step
     */
    public ScheduledWork(
            String requestId,
            ScheduledRequest.Kind kind,
            int start,
            int numTokens,
            int[] tokens,
            int[] prefixTokens,
            int[] blockTable,
            boolean samples,
            int externalTokens) {
        this(
                requestId,
                kind,
                start,
                numTokens,
                tokens,
                0,
                tokens.length,
                prefixTokens,
                blockTable,
                samples,
                externalTokens);
    }

    private ScheduledWork(
            String requestId,
            ScheduledRequest.Kind kind,
            int start,
            int numTokens,
            int[] tokenBuffer,
            int tokenOffset,
            int numKnownTokens,
            int[] prefixTokens,
            int[] blockTable,
            boolean samples,
            int externalTokens) {
        this.requestId = Objects.requireNonNull(requestId, "requestId");
        this.kind = Objects.requireNonNull(kind, "kind");
        this.start = start;
        this.numTokens = numTokens;
        Objects.checkFromIndexSize(tokenOffset, numKnownTokens, tokenBuffer.length);
        this.tokenBuffer = tokenBuffer;
        this.tokenOffset = tokenOffset;
        this.numKnownTokens = numKnownTokens;
        this.prefixTokens = Objects.requireNonNull(prefixTokens, "prefixTokens");
        this.blockTable = Objects.requireNonNull(blockTable, "blockTable");
        this.samples = samples;
        this.externalTokens = externalTokens;
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
        int[] buffer = known == 0 ? NONE : r.appendOnlyTokens();
        int offset = known == 0 ? 0 : start;
        int[] prefix = kind == ScheduledRequest.Kind.CONTINUING ? NONE : r.tokenIds(0, start);
        boolean samples = start + numNew >= r.numTokens();
        return new ScheduledWork(
                r.requestId(), kind, start, numNew, buffer, offset, known, prefix, blocks, samples, externalTokens);
    }

    /** The request. */
    public String requestId() {
        return requestId;
    }

    /** Why it is in the step; for NEW and RESUMED the workers (re)build its state. */
    public ScheduledRequest.Kind kind() {
        return kind;
    }

    /** The first position computed. */
    public int start() {
        return start;
    }

    /** Positions computed, {@code [start, start + numTokens)}. */
    public int numTokens() {
        return numTokens;
    }

    /**
     * Known token ids of the computed positions, from {@code start} on: {@code numTokens}, or one
     * less under asynchronous scheduling when the last position's token is one only the workers
     * know (sampled in the previous step).
     */
    public int numKnownTokens() {
        return numKnownTokens;
    }

    /** The known token at position {@code start + k}. */
    public int token(int k) {
        Objects.checkIndex(k, numKnownTokens);
        return tokenBuffer[tokenOffset + k];
    }

    /** For NEW and RESUMED, the token ids of {@code [0, start)}; otherwise empty. Must not be changed. */
    public int[] prefixTokens() {
        return prefixTokens;
    }

    /**
     * For NEW and RESUMED every block of the request; otherwise the blocks added in this step. Must
     * not be changed.
     */
    public int[] blockTable() {
        return blockTable;
    }

    /** Whether the step samples a token for it (its last known position is computed). */
    public boolean samples() {
        return samples;
    }

    /** Tokens a connector loads synchronously into its blocks in this step. */
    public int externalTokens() {
        return externalTokens;
    }

    /**
     * Whether this is a decode: one position whose token is sampled. Everything else is prefill
     * (a prompt, a chunk of one, or the recomputation of a preempted request). The modelled cost
     * and the engine's prefill token count use this one definition.
     */
    public boolean decodes() {
        return numTokens == 1 && samples;
    }

    @Override
    public String toString() {
        return "ScheduledWork[" + requestId + ", " + kind + ", start=" + start + ", numTokens=" + numTokens
                + ", known=" + numKnownTokens + ", blocks=" + Arrays.toString(blockTable) + ", samples=" + samples
                + ", external=" + externalTokens + "]";
    }
}
