package io.kvconnect.core.sched;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.core.kv.BlockHashChain;
import io.kvconnect.core.kv.BlockHasher;
import io.kvconnect.core.kv.KvCacheManager;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One request inside the engine. Mutable, owned by the scheduler thread; connectors see it only
 * through its {@link RequestView} face, which reads it live.
 *
 * <p>Three token counts are kept apart, so that no hook can ever see a count that includes
 * positions whose KV does not exist yet (under asynchronous scheduling the next step is planned
 * before the previous one's tokens are known):
 * <ul>
 *   <li>{@link #scheduledThrough()}: positions computed or in flight (what the reference engine
 *       calls {@code num_computed_tokens}); the scheduler plans with it;</li>
 *   <li>{@link #numComputedTokens()}: positions whose KV is written and confirmed by a processed
 *       step output; the only count a connector gets;</li>
 *   <li>{@link #numOutputPlaceholders()}: decode positions scheduled under asynchronous scheduling
 *       whose sampled tokens are not known yet.</li>
 * </ul>
 */
public final class Request implements RequestView {
    /**
     * The end-of-sequence token id: a request that samples it finishes as stopped (the token is
     * its last output token).
     */
    public static final int EOS_TOKEN_ID = 2;

    private final String id;
    private final int numPromptTokens;
    private final int maxTokens;
    private final int priority;
    private final long arrivalOrder;
    private final TransferParams transferParams;
    private final Optional<String> cacheSalt;
    private final BlockHasher hasher;
    /** Where the request's blocks are: the view reads them live, never a copy kept here. */
    private final KvCacheManager blocks;

    /**
     * Sized in the constructor for the tokens the request may reach, as {@link #tokens} is; words
     * in one array, so that a filled block makes no object (see {@link BlockHashChain}).
     */
    private final BlockHashChain hashes;
    /**
     * The token count at which the next block hash is due: {@code (hashes.size() + 1) * blockSize}.
     * Kept here so that appending a token, once per request and step, reads no other object until a
     * block fills (the list and the hasher are two more cache misses per token otherwise).
     */
    private int nextHashAt;

    private int[] tokens;
    private int numTokens;

    private RequestStatus status = RequestStatus.WAITING;
    private int scheduledThrough;
    private int confirmed;
    private int placeholders;
    private int numPreemptions;
    private @Nullable String failureReason;
    /** Steps whose output is stale for this request: it was preempted or reset after they were scheduled. */
    private long discardOutputsThroughStep = -1;
    /** The step that last scheduled this request (the scheduler's bookkeeping within a step). */
    long scheduledInStep = -1;
    /** Full blocks the scheduler already asked the cache manager to cache; only ever an under-estimate. */
    int cachedBlocksHint;
    /**
     * The cache manager's record of this request's blocks, kept so that growing and caching need
     * no lookup by id (see {@link KvCacheManager#owned}); refreshed by {@link #ownedBlocks()} once
     * dead. Not a copy: the blocks themselves are read from the record.
     */
    private KvCacheManager.@Nullable Owned ownedBlocks;
    // ---- outputs held until the request's external loads are settled (see Scheduler) ----
    /** The step whose output must be applied before this request's outputs are final; -1 if none. */
    long settleStep = -1;
    /** Positions computed or loaded whose confirmation is held back (0 if none). */
    int heldConfirm;
    /** Sampled tokens held back, in order. */
    private int[] heldTokens = new int[0];

    private int numHeldTokens;

    // ---- failed external loads ----
    /** External loads of this request that failed. */
    int loadFailures;
    /** The first block index of a failed load: no external load may cover it again. */
    int noLoadFromBlock = Integer.MAX_VALUE;

    // ---- the blocks its external load wrote into (see LoadFailureRecovery) ----
    /**
     * Its blocks when its last external load was granted, {@code null} if it never loaded. A
     * failure report can be about that load only while these are still its blocks ({@link
     * KvCacheManager.Owned#isLive()}): once freed, they may be another request's.
     */
    KvCacheManager.@Nullable Owned loadedInto;
    /** The first block index of its last external load. */
    int loadedFromBlock;
    /** The block index after the last one whose KV still comes from its last external load. */
    int loadedToBlock;
    /** The step that granted its last external load: a report of an earlier step cannot be about it. */
    long loadedInStep;

    /**
     * @param blocks the KV-cache manager that holds the request's blocks, which its view reads live
     */
    Request(
            String id,
            int[] prompt,
            int maxTokens,
            int priority,
            long arrivalOrder,
            TransferParams params,
            Optional<String> cacheSalt,
            BlockHasher hasher,
            KvCacheManager blocks) {
        this.id = Objects.requireNonNull(id, "id");
        if (prompt.length == 0) {
            throw new IllegalArgumentException("request " + id + " has an empty prompt");
        }
        if (maxTokens <= 0) {
            throw new IllegalArgumentException(
                    "request " + id + " must allow at least one output token, got " + maxTokens);
        }
        this.numPromptTokens = prompt.length;
        this.maxTokens = maxTokens;
        this.priority = priority;
        this.arrivalOrder = arrivalOrder;
        this.transferParams = Objects.requireNonNull(params, "params");
        this.cacheSalt = Objects.requireNonNull(cacheSalt, "cacheSalt");
        this.hasher = hasher;
        this.blocks = Objects.requireNonNull(blocks, "blocks");
        this.tokens = Arrays.copyOf(prompt, expectedTokens(prompt.length, maxTokens));
        // One hash per full block of those tokens: grown from ten, a decoding request's list was
        // copied about a dozen times on its way to a thousand blocks, a twelfth of the step's garbage.
        this.hashes = new BlockHashChain(tokens.length / hasher.blockSize() + 1);
        this.numTokens = prompt.length;
        extendHashes();
    }

    /**
     * The tokens a request is sized for up front: its prompt and its output up to 65,536 tokens (a
     * longer one grows past that). Its token array, its block-hash list and its list of owned
     * blocks are sized for this many, so a decoding request does not copy them as it grows.
     */
    static int expectedTokens(int promptTokens, int maxTokens) {
        return promptTokens + Math.min(maxTokens, 1 << 16);
    }

    /** {@link #expectedTokens(int, int)} of this request. */
    int expectedTokens() {
        return expectedTokens(numPromptTokens, maxTokens);
    }

    @Override
    public String requestId() {
        return id;
    }

    @Override
    public RequestStatus status() {
        return status;
    }

    @Override
    public int numPromptTokens() {
        return numPromptTokens;
    }

    @Override
    public int numTokens() {
        return numTokens;
    }

    @Override
    public int tokenId(int index) {
        Objects.checkIndex(index, numTokens);
        return tokens[index];
    }

    /**
     * The token array itself, for {@link ScheduledWork}'s window on it: valid from 0 to {@link
     * #numTokens()} at the time of the call. Tokens are only appended, so those positions never
     * change afterwards; a later append that outgrows the array moves to a new one and leaves this
     * one as it was. Must not be written to.
     */
    int[] appendOnlyTokens() {
        return tokens;
    }

    @Override
    public int[] tokenIds(int from, int to) {
        Objects.checkFromToIndex(from, to, numTokens);
        return Arrays.copyOfRange(tokens, from, to);
    }

    @Override
    public int numComputedTokens() {
        return confirmed;
    }

    @Override
    public int numOutputPlaceholders() {
        return placeholders;
    }

    @Override
    public int maxTokens() {
        return maxTokens;
    }

    @Override
    public List<BlockHash> blockHashes() {
        return hashes.toList();
    }

    @Override
    public int numBlockHashes() {
        return hashes.size();
    }

    @Override
    public BlockHash blockHash(int index) {
        // A new record per call, equal to the last. Kept records would cost a decoding request's
        // connector reads 48 B per filled block, where a record read and dropped at once is
        // often not made at all (the compiler's escape analysis).
        return hashes.get(index);
    }

    /**
     * The request's block hashes themselves, not a copy: for the KV-cache manager, which caches
     * filled blocks from them without making a record per block. Must not be changed.
     */
    BlockHashChain hashChain() {
        return hashes;
    }

    @Override
    public BlockIds blockIds() {
        return blocks.blocks(id);
    }

    @Override
    public int numBlocks() {
        return blocks.numBlocks(id);
    }

    @Override
    public int blockId(int index) {
        return blocks.blockAt(id, index);
    }

    @Override
    public TransferParams transferParams() {
        return transferParams;
    }

    @Override
    public Optional<String> cacheSalt() {
        return cacheSalt;
    }

    @Override
    public int numPreemptions() {
        return numPreemptions;
    }

    @Override
    public int priority() {
        return priority;
    }

    @Override
    public String toString() {
        return "Request[" + id + ", " + status + ", tokens=" + numTokens + ", scheduled=" + scheduledThrough
                + ", confirmed=" + confirmed + ", placeholders=" + placeholders + "]";
    }

    // ---- engine side ----

    /** Order of arrival, for first-come-first-served and ties. */
    long arrivalOrder() {
        return arrivalOrder;
    }

    /** Output tokens known so far. */
    int numOutputTokens() {
        return numTokens - numPromptTokens;
    }

    int scheduledThrough() {
        return scheduledThrough;
    }

    void setStatus(RequestStatus status) {
        this.status = status;
    }

    void setScheduledThrough(int n) {
        scheduledThrough = n;
    }

    /** Confirms KV up to {@code n} positions (never backwards; truncation uses {@link #truncateTo}). */
    void confirmThrough(int n) {
        confirmed = Math.max(confirmed, Math.min(n, scheduledThrough));
    }

    /** The KV from {@code n} on is invalid: compute it again. */
    void truncateTo(int n) {
        scheduledThrough = Math.min(scheduledThrough, n);
        confirmed = Math.min(confirmed, n);
        cachedBlocksHint = 0;
        // What is computed again no longer comes from the load: no report can be about it.
        loadedToBlock = Math.min(loadedToBlock, Math.ceilDiv(n, hasher.blockSize()));
    }

    void addPlaceholder() {
        placeholders++;
    }

    /**
     * Appends a sampled token (consuming a placeholder under asynchronous scheduling).
     *
     * @return whether the token filled a block (its hash was just added)
     */
    boolean appendOutputToken(int token) {
        if (numTokens == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[numTokens++] = token;
        if (placeholders > 0) {
            placeholders--;
        }
        return extendHashes();
    }

    /** Everything computed is lost (preemption by recomputation, reset). */
    void resetComputed(long currentStep) {
        scheduledThrough = 0;
        confirmed = 0;
        placeholders = 0;
        cachedBlocksHint = 0;
        discardOutputsThroughStep = currentStep;
    }

    /** After a truncation: outputs of steps scheduled so far are stale, nothing is in flight any more. */
    void resetPlaceholdersAfterTruncation(long currentStep) {
        placeholders = 0;
        discardOutputsThroughStep = currentStep;
    }

    void countPreemption() {
        numPreemptions++;
    }

    /** Whether an output of {@code step} is stale for this request. */
    boolean discards(long step) {
        return step <= discardOutputsThroughStep;
    }

    boolean reachedMaxTokens() {
        return numOutputTokens() >= maxTokens;
    }

    /** Output tokens known or in flight. */
    int outputsIncludingPlaceholders() {
        return numOutputTokens() + placeholders;
    }

    @Nullable
    String failureReason() {
        return failureReason;
    }

    /** Whether outputs (confirmations or tokens) are held back waiting for the loads to settle. */
    boolean holdsOutputs() {
        return heldConfirm > 0 || numHeldTokens > 0;
    }

    void holdToken(int token) {
        if (numHeldTokens == heldTokens.length) {
            heldTokens = Arrays.copyOf(heldTokens, Math.max(4, numHeldTokens * 2));
        }
        heldTokens[numHeldTokens++] = token;
    }

    int numHeldTokens() {
        return numHeldTokens;
    }

    int heldToken(int i) {
        return heldTokens[i];
    }

    /** Forgets held outputs (released, or dropped because they may stem from wrong KV). */
    void clearHeld() {
        heldConfirm = 0;
        numHeldTokens = 0;
    }

    /** A load of this request failed at block {@code blockIndex}. */
    void recordLoadFailure(int blockIndex) {
        loadFailures++;
        noLoadFromBlock = Math.min(noLoadFromBlock, blockIndex);
    }

    /** An external load into its blocks {@code [fromBlock, toBlock)} of {@code own} was granted in {@code step}. */
    void loadGranted(KvCacheManager.Owned own, int fromBlock, int toBlock, long step) {
        loadedInto = own;
        loadedFromBlock = fromBlock;
        loadedToBlock = toBlock;
        loadedInStep = step;
    }

    void fail(String reason) {
        if (failureReason == null) {
            failureReason = reason;
        }
    }

    /**
     * The cache manager's live record of this request's blocks, or {@code null} if it owns none
     * (then looked up again on every call: only requests without blocks, which do not decode).
     */
    KvCacheManager.@Nullable Owned ownedBlocks() {
        KvCacheManager.Owned own = ownedBlocks;
        if (own == null || !own.isLive()) {
            own = blocks.owned(id);
            ownedBlocks = own;
        }
        return own;
    }

    /** Hashes every block that is full by now; returns whether there was one to hash. */
    private boolean extendHashes() {
        if (numTokens < nextHashAt) {
            return false;
        }
        int bs = hasher.blockSize();
        while ((hashes.size() + 1) * bs <= numTokens) {
            hasher.appendTo(hashes, tokens, cacheSalt);
        }
        nextHashAt = (hashes.size() + 1) * bs;
        return true;
    }
}
