package io.kvconnect.core.sched;

import io.kvconnect.api.scheduler.ScheduledRequest;
import java.util.Arrays;
import java.util.Objects;

/**
 * What the workers compute for one request in one step. Built on the scheduler thread and read by
 * the workers; unchanged while anyone may read it.
 *
 * <p>The known tokens are a window on the request's own token array, not a copy: a request's
 * tokens are only ever appended, so positions below its token count never change (when the array
 * grows, the old one keeps its contents), and a decode step, which knows one token, copied a
 * one-element array per request and step before. The window is read only through {@link
 * #numKnownTokens()} and {@link #token(int)}. A decode's new blocks are a window in the same way,
 * on the request's list of owned blocks ({@link #numBlocks()}, {@link #block(int)}).
 *
 * <p><b>Reused by the scheduler.</b> The scheduler's entries are not built per step: the planner
 * keeps one {@link StepEntries} per step parity, each slot of which owns an entry, and the step
 * planned fills the slots of its parity in batch order. A step's output is read until that step is
 * applied, and the scheduler plans at most one step ahead of the last applied one, so when step
 * {@code n + 2} refills an entry, nobody reads step {@code n}'s any more: a step of 256 decoding
 * requests allocated 256 entries of 64 bytes before. The entries belong to the slots, not to the
 * requests, so that a step's entries were made together and lie side by side in memory, in the
 * order the loops read them; with two entries per request, each lay where its request was made,
 * and the first read of it in each loop was a cache miss. Each
 * entry knows the step it was filled for ({@link #step()}), and {@link SchedulerOutput#work()}
 * refuses to hand out an entry filled for another step, so reading a stale output fails loudly
 * instead of reading another step's work. Entries built with the public constructor (tests, tools)
 * are never refilled and belong to any step.
 */
public final class ScheduledWork {
    private static final int[] NONE = new int[0];
    /** {@link #step()} of an entry built with the public constructor: valid in any step's output. */
    static final long ANY_STEP = -1;

    private long step = ANY_STEP;
    private String requestId = "";
    private ScheduledRequest.Kind kind = ScheduledRequest.Kind.CONTINUING;
    private int start;
    private int numTokens;
    private int[] tokenBuffer = NONE;
    private int tokenOffset;
    private int numKnownTokens;
    private int[] prefixTokens = NONE;
    /** The blocks are {@code blockBuffer[blockOffset, blockOffset + numBlocks)}: a window, as the tokens are. */
    private int[] blockBuffer = NONE;

    private int blockOffset;
    private int numBlocks;
    private boolean samples;
    private int externalTokens;

    /** An empty entry for a slot of {@link StepEntries} to fill. */
    ScheduledWork() {}

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
        fill(
                ANY_STEP,
                requestId,
                kind,
                start,
                numTokens,
                tokens,
                0,
                tokens.length,
                prefixTokens,
                blockTable,
                0,
                blockTable.length,
                samples,
                externalTokens);
    }

    private void fill(
            long step,
            String requestId,
            ScheduledRequest.Kind kind,
            int start,
            int numTokens,
            int[] tokenBuffer,
            int tokenOffset,
            int numKnownTokens,
            int[] prefixTokens,
            int[] blockBuffer,
            int blockOffset,
            int numBlocks,
            boolean samples,
            int externalTokens) {
        // The windows are not checked against their arrays here: the scheduler's callers derive
        // them from a request's own counts, which never exceed its arrays, and reading an array's
        // length loads the cache line of its header: for a decoding request's token array, a line
        // far from the positions the step uses, which planning otherwise does not touch (measured:
        // about 2% of the step at 256 requests). A window that was wrong anyway still cannot read
        // outside its array: every read goes through a bounds-checked array access.
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(prefixTokens, "prefixTokens");
        Objects.requireNonNull(blockBuffer, "blockBuffer");
        if (numBlocks == 0) {
            // An empty window reads nothing, so the entry keeps the array it had. A decoding
            // request adds a block one step in 16: switching between an empty array and its list
            // of blocks stored a reference twice per block, and each such store into this old
            // object paid the collector's card-marking barrier, with a memory fence. This keeps at
            // most one array per entry reachable a little longer.
            blockBuffer = this.blockBuffer;
            blockOffset = 0;
        }
        this.step = step;
        // A refilled entry is an old object by now, and storing a reference into an old object
        // costs the garbage collector's write barrier (a card to mark, more so across regions):
        // store only what changed. From one step to the next of a decoding request, none of
        // these does, except when a block is added or the token array grows.
        if (this.requestId != requestId) {
            this.requestId = requestId;
        }
        if (this.kind != kind) {
            this.kind = kind;
        }
        if (this.tokenBuffer != tokenBuffer) {
            this.tokenBuffer = tokenBuffer;
        }
        if (this.prefixTokens != prefixTokens) {
            this.prefixTokens = prefixTokens;
        }
        if (this.blockBuffer != blockBuffer) {
            this.blockBuffer = blockBuffer;
        }
        this.start = start;
        this.numTokens = numTokens;
        this.tokenOffset = tokenOffset;
        this.numKnownTokens = numKnownTokens;
        this.blockOffset = blockOffset;
        this.numBlocks = numBlocks;
        this.samples = samples;
        this.externalTokens = externalTokens;
    }

    /**
     * The work of {@code r} in {@code step}: {@code numNew} positions from where it is scheduled
     * through; {@code blocks} are the block table (NEW, RESUMED) or the blocks added in this step.
     * Fills and returns {@code into}, the entry of the step's next slot in its {@link StepEntries}
     * (see the class comment).
     */
    static ScheduledWork of(
            ScheduledWork into,
            Request r,
            long step,
            ScheduledRequest.Kind kind,
            int numNew,
            int[] blocks,
            int externalTokens) {
        return of(into, r, step, kind, numNew, blocks, 0, blocks.length, externalTokens);
    }

    /**
     * {@link #of(ScheduledWork, Request, long, ScheduledRequest.Kind, int, int[], int)} with the
     * blocks a window {@code blockBuffer[blockOffset, blockOffset + numBlocks)}, for example the last entries of
     * the request's list of owned blocks, which are never changed (see {@link
     * io.kvconnect.core.kv.KvCacheManager.Owned#blockIdArray()}).
     */
    static ScheduledWork of(
            ScheduledWork into,
            Request r,
            long step,
            ScheduledRequest.Kind kind,
            int numNew,
            int[] blockBuffer,
            int blockOffset,
            int numBlocks,
            int externalTokens) {
        int start = r.scheduledThrough();
        int known = Math.max(0, Math.min(numNew, r.numTokens() - start));
        // Under asynchronous scheduling the workers may know tokens the scheduler does not yet
        // (in flight, or held back until a load settles): then start is past the known tokens.
        int[] buffer = known == 0 ? NONE : r.appendOnlyTokens();
        int offset = known == 0 ? 0 : start;
        int[] prefix = kind == ScheduledRequest.Kind.CONTINUING ? NONE : r.tokenIds(0, start);
        boolean samples = start + numNew >= r.numTokens();
        into.fill(
                step,
                r.requestId(),
                kind,
                start,
                numNew,
                buffer,
                offset,
                known,
                prefix,
                blockBuffer,
                blockOffset,
                numBlocks,
                samples,
                externalTokens);
        return into;
    }

    /**
     * The step this entry was filled for, or {@link #ANY_STEP} if it was built with the public
     * constructor.
     */
    long step() {
        return step;
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
     * For NEW and RESUMED every block of the request; otherwise the blocks added in this step: how
     * many ({@link #block(int)} reads them).
     */
    public int numBlocks() {
        return numBlocks;
    }

    /** Block {@code i} of {@link #numBlocks()}. */
    public int block(int i) {
        Objects.checkIndex(i, numBlocks);
        return blockBuffer[blockOffset + i];
    }

    /**
     * The blocks of {@link #numBlocks()} as an array: the entry's own when its blocks are a whole
     * array (must not be changed then), else a copy. Read by index to make no array.
     */
    public int[] blockTable() {
        if (numBlocks == 0) {
            return NONE;
        }
        return blockOffset == 0 && numBlocks == blockBuffer.length
                ? blockBuffer
                : Arrays.copyOfRange(blockBuffer, blockOffset, blockOffset + numBlocks);
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
                + ", known=" + numKnownTokens + ", blocks=" + Arrays.toString(blockTable()) + ", samples=" + samples
                + ", external=" + externalTokens + "]";
    }
}
