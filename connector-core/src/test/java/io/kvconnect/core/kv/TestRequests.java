package io.kvconnect.core.kv;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A fixed request for the kv tests: its tokens never change and its block hashes are computed
 * once with {@link BlockHasher}, the way the engine's request computes them.
 */
final class TestRequest implements RequestView {
    private final String id;
    private final int[] tokens;
    private final Optional<String> salt;
    private final List<BlockHash> hashes;

    TestRequest(String id, int blockSize, Optional<String> salt, int... tokens) {
        this.id = id;
        this.tokens = tokens.clone();
        this.salt = salt;
        BlockHasher hasher = new BlockHasher(blockSize);
        List<BlockHash> hs = new ArrayList<>();
        for (int i = 0; (i + 1) * blockSize <= tokens.length; i++) {
            hs.add(hasher.hash(i == 0 ? null : hs.get(i - 1), this.tokens, i * blockSize, salt));
        }
        this.hashes = List.copyOf(hs);
    }

    /** An unsalted request. */
    static TestRequest of(String id, int blockSize, int... tokens) {
        return new TestRequest(id, blockSize, Optional.empty(), tokens);
    }

    /** Tokens {@code from, from + 1, ..., from + n - 1}. */
    static int[] range(int from, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = from + i;
        }
        return t;
    }

    /** {@code a} followed by {@code b}. */
    static int[] concat(int[] a, int... b) {
        int[] t = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, t, a.length, b.length);
        return t;
    }

    @Override
    public String requestId() {
        return id;
    }

    @Override
    public RequestStatus status() {
        return RequestStatus.WAITING;
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
        return tokens[index];
    }

    @Override
    public int[] tokenIds(int from, int to) {
        return Arrays.copyOfRange(tokens, from, to);
    }

    @Override
    public int numComputedTokens() {
        return 0;
    }

    @Override
    public int numOutputPlaceholders() {
        return 0;
    }

    @Override
    public int maxTokens() {
        return 16;
    }

    @Override
    public List<BlockHash> blockHashes() {
        return hashes;
    }

    @Override
    public TransferParams transferParams() {
        return TransferParams.empty();
    }

    @Override
    public Optional<String> cacheSalt() {
        return salt;
    }

    @Override
    public int numPreemptions() {
        return 0;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public String toString() {
        return id + Arrays.toString(tokens);
    }
}
