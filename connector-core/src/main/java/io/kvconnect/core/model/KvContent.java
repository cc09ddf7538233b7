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
 *
 * <p>Like a transformer, the KV a step writes in layer {@code l > 0} depends on what it read in the
 * layer below: a deviation of what was read from what should have been read ({@link #deviation})
 * is folded into a taint that changes every word written ({@link #tainted}). With correct KV
 * everywhere the taint is 0 and the content is the pure function above.
 */
public final class KvContent {
    /** Size of the token vocabulary; token 0 is never produced. */
    public static final int VOCAB = 32_000;
    /** The end-of-sequence token: sampled only by the stop decision of {@link #sample}. */
    public static final int EOS = io.kvconnect.core.sched.Request.EOS_TOKEN_ID;
    /** The smallest ordinary token id (below are 0, never produced, and the end-of-sequence token). */
    private static final int FIRST_ORDINARY = EOS + 1;
    /** The position hash before the first token. */
    public static final long ROOT = 0x6b76636f6e6e6563L;

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private KvContent() {}

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

    /**
     * The token sampled from the digest summed over every rank, for the position after {@code end - 1}.
     *
     * @param eosThreshold the end-of-sequence token is sampled when a value derived from the digest,
     *     read as an unsigned 64-bit number, is below this (see {@link #eosThreshold}); 0 never
     */
    public static int sample(long digest, int end, long eosThreshold) {
        long z = mix(digest ^ end);
        if (Long.compareUnsigned(mix(z ^ 0x5DEECE66DL), eosThreshold) < 0) {
            return EOS;
        }
        return FIRST_ORDINARY + (int) Long.remainderUnsigned(z, VOCAB - FIRST_ORDINARY);
    }

    /**
     * The unsigned threshold for {@link #sample} that makes the end-of-sequence token come with
     * probability {@code rate} per sampled position.
     *
     * @throws IllegalArgumentException unless {@code 0 <= rate <= 1}
     */
    public static long eosThreshold(double rate) {
        if (!(rate >= 0 && rate <= 1)) {
            throw new IllegalArgumentException("the end-of-sequence rate must be in [0, 1], got " + rate);
        }
        if (rate == 1) {
            return -1L; // every unsigned value but the largest is below it
        }
        // rate * 2^64 as an unsigned long: scale to 2^63 first, then double.
        return ((long) (rate * 0x1p63)) << 1;
    }

    /**
     * What reading {@code word} where {@code expected} belongs, in KV head {@code head}, adds to a
     * position's deviation: 0 if they are equal, a value that is never 0 otherwise.
     */
    public static long deviation(long word, long expected, int head) {
        long d = word ^ expected;
        return d == 0 ? 0 : mix(d + head) | 1;
    }

    /** What one position's deviation adds to the running taint of the positions after it. */
    public static long taintStep(long deviation, int position) {
        return deviation == 0 ? 0 : mix(deviation ^ ((long) position * GOLDEN)) | 1;
    }

    /**
     * The seed word written for one head when the step attended to wrong KV: {@code value} changed
     * by {@code taint} (never equal to {@code value} when the taint is not 0).
     */
    public static long tainted(long value, long taint, int head) {
        return taint == 0 ? value : value ^ (mix(taint + head) | 1);
    }

    /** SplitMix64's finalizer: a fast, well-distributed bijection. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
