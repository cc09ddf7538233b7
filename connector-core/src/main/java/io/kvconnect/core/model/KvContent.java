package io.kvconnect.core.model;

/**
 * The verifying model's arithmetic: pure functions from a token prefix to KV content and from KV
 * content to the next token.
 *
 * <p>Position {@code p} of a sequence has a position hash chained over the tokens {@code [0, p]};
 * its KV in layer {@code l} for KV head {@code h} is a run of 64-bit words derived from
 * {@code (positionHash(p), l, h)}. So the correct content of every block is known from the tokens
 * alone, and two requests with the same prefix write the same bytes. The next token is derived from
 * words read back from the cache for every position, layer and head, so wrong, stale or
 * missing KV changes the output.
 */
public final class KvContent {
    /** Size of the token vocabulary; token 0 is never produced. */
    public static final int VOCAB = 32_000;
    /** The position hash before the first token. */
    public static final long ROOT = 0x6b76636f6e6e6563L;

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private KvContent() {
    }

    /** The position hash of a position holding {@code token} after a position with hash {@code previous}. */
    public static long positionHash(long previous, int token) {
        return mix(previous ^ (token * GOLDEN) ^ 0x2545F4914F6CDD1DL);
    }

    /**
     * The seed word of one position's KV in one layer for one KV head. Heads, not ranks, so that
     * the output does not depend on how heads are spread over tensor-parallel ranks.
     */
    public static long value(long positionHash, int layer, int head) {
        return mix(positionHash + (layer + 1) * 0xBF58476D1CE4E5B9L + (head + 1) * 0x94D049BB133111EBL);
    }

    /** Word {@code i} of a position's KV slot with seed {@code value}. */
    public static long word(long value, int i) {
        return value ^ (i * GOLDEN);
    }

    /** What one read word contributes to the attention digest of position {@code p}. */
    public static long contribution(long word, int position) {
        return mix(word + position);
    }

    /** The token sampled from the digest summed over every rank, for the position after {@code end - 1}. */
    public static int sample(long digest, int end) {
        return 1 + (int) Long.remainderUnsigned(mix(digest ^ end), VOCAB - 1);
    }

    /** SplitMix64's finalizer: a fast, well-distributed bijection. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
