package io.kvconnect.core.kv;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.testkit.doubles.FakeRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Fixed requests for the kv tests: the test kit's {@link FakeRequest} with the block hashes
 * computed once with {@link BlockHasher}, the way the engine's request computes them, and at most
 * 16 output tokens.
 */
final class TestRequests {
    private TestRequests() {}

    /** A request of {@code tokens} with cache salt {@code salt} (empty for none). */
    static FakeRequest of(String id, int blockSize, Optional<String> salt, int... tokens) {
        BlockHasher hasher = new BlockHasher(blockSize);
        List<BlockHash> hashes = new ArrayList<>();
        for (int i = 0; (i + 1) * blockSize <= tokens.length; i++) {
            hashes.add(hasher.hash(i == 0 ? null : hashes.get(i - 1), tokens, i * blockSize, salt));
        }
        return FakeRequest.builder(id)
                .tokens(tokens)
                .blockHashes(hashes)
                .cacheSalt(salt)
                .build();
    }

    /** An unsalted request. */
    static FakeRequest of(String id, int blockSize, int... tokens) {
        return of(id, blockSize, Optional.empty(), tokens);
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
}
