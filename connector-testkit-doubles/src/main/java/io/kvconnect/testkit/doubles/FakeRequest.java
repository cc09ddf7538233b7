package io.kvconnect.testkit.doubles;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * A request as a connector's scheduler side sees it, with fixed tokens and block hashes and the
 * state a test moves on between hooks, as the engine does between steps: {@linkplain
 * #setStatus status}, {@linkplain #setNumComputedTokens KV-confirmed tokens} and the {@linkplain
 * #setBlockIds block table}. A connector that keeps the view it was given sees those changes, as it
 * would with the engine's live view.
 *
 * <pre>{@code
 * FakeRequest a = FakeRequest.builder("a").countingTokens(40).syntheticBlockHashes(16).build();
 * scheduler.getNumNewMatchedTokens(a, 0);
 * a.setBlockIds(BlockIds.of(1, 2, 3));
 * scheduler.updateStateAfterAlloc(a, a.blockIds(), 0, 0);
 * a.setNumComputedTokens(40);
 * a.setStatus(RequestStatus.FINISHED_STOPPED);
 * scheduler.requestFinished(a, a.blockIds());
 * }</pre>
 *
 * <p>What it leaves out: its block hashes are whatever the test gave (or {@linkplain
 * Builder#syntheticBlockHashes synthetic}), not the engine's chained hashes of the tokens; it has
 * no output tokens (every token is a prompt token); and nothing checks that the test moves its
 * state the way the engine would (that the block table covers the tokens, say). Equality is
 * identity, as for the engine's requests.
 *
 * <p>Not thread-safe: the scheduler side and the test use it on one thread.
 */
public final class FakeRequest implements RequestView {
    private final String requestId;
    private final int[] tokens;
    private final List<BlockHash> blockHashes;
    private final int maxTokens;
    private final TransferParams transferParams;
    private final Optional<String> cacheSalt;
    private final int numPreemptions;
    private final int priority;
    private RequestStatus status;
    private int numComputedTokens;
    private BlockIds blockIds;

    private FakeRequest(Builder b) {
        this.requestId = b.requestId;
        this.tokens = b.tokens.clone();
        this.blockHashes = b.blockHashes != null
                ? b.blockHashes
                : b.syntheticBlockSize > 0 ? synthetic(b.requestId, tokens.length, b.syntheticBlockSize) : List.of();
        this.maxTokens = b.maxTokens;
        this.transferParams = b.transferParams;
        this.cacheSalt = b.cacheSalt;
        this.numPreemptions = b.numPreemptions;
        this.priority = b.priority;
        this.status = b.status;
        this.blockIds = b.blockIds;
        setNumComputedTokens(b.numComputedTokens);
    }

    /** A builder of a request with id {@code requestId}. */
    public static Builder builder(String requestId) {
        return new Builder(requestId);
    }

    /** One hash per full block: {@code BlockHash(requestId.hashCode(), i, 0, 0)} for block {@code i}. */
    private static List<BlockHash> synthetic(String requestId, int numTokens, int blockSize) {
        return IntStream.range(0, numTokens / blockSize)
                .mapToObj(i -> new BlockHash(requestId.hashCode(), i, 0, 0))
                .toList();
    }

    /**
     * Moves the request to {@code newStatus}, as the engine does when it runs, preempts or finishes
     * it; a connector reading {@link #status()} from now on sees it.
     */
    public void setStatus(RequestStatus newStatus) {
        this.status = Objects.requireNonNull(newStatus, "status");
    }

    /**
     * Sets the tokens whose KV the engine has written and confirmed, as the engine does after a
     * step.
     *
     * @throws IllegalArgumentException if {@code n} is negative or more than the request's tokens
     */
    public void setNumComputedTokens(int n) {
        if (n < 0 || n > tokens.length) {
            throw new IllegalArgumentException("computed tokens must be in [0, " + tokens.length + "], got " + n);
        }
        this.numComputedTokens = n;
    }

    /**
     * Sets the request's block table, as the engine does when it allocates blocks to the request
     * (all of them, {@code | local hit | external | new |}), grows it, takes them back at a
     * preemption ({@link BlockIds#empty()}) or frees them; a connector reading {@link #blockIds()}
     * from now on sees it.
     *
     * @param ids the blocks the request owns now
     */
    public void setBlockIds(BlockIds ids) {
        this.blockIds = Objects.requireNonNull(ids, "ids");
    }

    @Override
    public String requestId() {
        return requestId;
    }

    @Override
    public RequestStatus status() {
        return status;
    }

    @Override
    public int numPromptTokens() {
        return tokens.length;
    }

    @Override
    public int numTokens() {
        return tokens.length;
    }

    @Override
    public int tokenId(int index) {
        Objects.checkIndex(index, tokens.length);
        return tokens[index];
    }

    @Override
    public int[] tokenIds(int from, int to) {
        Objects.checkFromToIndex(from, to, tokens.length);
        return Arrays.copyOfRange(tokens, from, to);
    }

    @Override
    public int numComputedTokens() {
        return numComputedTokens;
    }

    @Override
    public int numOutputPlaceholders() {
        return 0;
    }

    @Override
    public int maxTokens() {
        return maxTokens;
    }

    @Override
    public List<BlockHash> blockHashes() {
        return blockHashes;
    }

    @Override
    public int numBlockHashes() {
        return blockHashes.size();
    }

    @Override
    public BlockHash blockHash(int index) {
        return blockHashes.get(index);
    }

    @Override
    public BlockIds blockIds() {
        return blockIds;
    }

    @Override
    public int numBlocks() {
        return blockIds.size();
    }

    @Override
    public int blockId(int index) {
        return blockIds.get(index);
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

    /** The id and the tokens, for assertion messages. */
    @Override
    public String toString() {
        return requestId + Arrays.toString(tokens);
    }

    /**
     * Builds a {@link FakeRequest}. Defaults: no tokens, no block hashes, at most 16 output tokens,
     * empty transfer parameters, no cache salt, never preempted, priority 0, {@code WAITING}, nothing
     * computed, no blocks.
     */
    public static final class Builder {
        private final String requestId;
        private int[] tokens = new int[0];
        private List<BlockHash> blockHashes;
        private int syntheticBlockSize;
        private int maxTokens = 16;
        private TransferParams transferParams = TransferParams.empty();
        private Optional<String> cacheSalt = Optional.empty();
        private int numPreemptions;
        private int priority;
        private RequestStatus status = RequestStatus.WAITING;
        private int numComputedTokens;
        private BlockIds blockIds = BlockIds.empty();

        private Builder(String requestId) {
            this.requestId = Objects.requireNonNull(requestId, "requestId");
        }

        /** The request's tokens (copied). */
        public Builder tokens(int... ids) {
            this.tokens = ids.clone();
            return this;
        }

        /** {@code n} tokens whose ids are their positions: {@code 0, 1, ..., n - 1}. */
        public Builder countingTokens(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("token count must be >= 0, got " + n);
            }
            this.tokens = IntStream.range(0, n).toArray();
            return this;
        }

        /**
         * The request's block hashes, as the engine would have computed them for its full blocks
         * (the test's choice: the double does not check them against the tokens).
         */
        public Builder blockHashes(List<BlockHash> hashes) {
            this.blockHashes = List.copyOf(hashes);
            this.syntheticBlockSize = 0;
            return this;
        }

        /**
         * One made-up hash per full block of {@code blockSize} tokens: {@code BlockHash(
         * requestId.hashCode(), i, 0, 0)} for block {@code i}. Distinct across a request's blocks
         * and, for ids with distinct hash codes, across requests; requests never share a prefix
         * this way.
         */
        public Builder syntheticBlockHashes(int blockSize) {
            if (blockSize <= 0) {
                throw new IllegalArgumentException("block size must be positive, got " + blockSize);
            }
            this.syntheticBlockSize = blockSize;
            this.blockHashes = null;
            return this;
        }

        /** The most output tokens the request may produce. */
        public Builder maxTokens(int n) {
            this.maxTokens = n;
            return this;
        }

        /** The client's transfer parameters. */
        public Builder transferParams(TransferParams params) {
            this.transferParams = Objects.requireNonNull(params, "params");
            return this;
        }

        /** The request's cache salt, or empty for none. */
        public Builder cacheSalt(Optional<String> salt) {
            this.cacheSalt = Objects.requireNonNull(salt, "salt");
            return this;
        }

        /** How often the request was preempted so far. */
        public Builder numPreemptions(int n) {
            this.numPreemptions = n;
            return this;
        }

        /** Its priority (lower runs first under priority scheduling). */
        public Builder priority(int p) {
            this.priority = p;
            return this;
        }

        /** Its status when built (it can move on with {@link FakeRequest#setStatus}). */
        public Builder status(RequestStatus s) {
            this.status = Objects.requireNonNull(s, "status");
            return this;
        }

        /** Its KV-confirmed tokens when built (see {@link FakeRequest#setNumComputedTokens}). */
        public Builder numComputedTokens(int n) {
            this.numComputedTokens = n;
            return this;
        }

        /** Its block table when built (it can move on with {@link FakeRequest#setBlockIds}). */
        public Builder blockIds(BlockIds ids) {
            this.blockIds = Objects.requireNonNull(ids, "ids");
            return this;
        }

        /**
         * The request.
         *
         * @throws IllegalArgumentException if the computed tokens exceed the tokens
         */
        public FakeRequest build() {
            return new FakeRequest(this);
        }
    }
}
