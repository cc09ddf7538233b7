package io.kvconnect.core.kv;

/**
 * A local prefix-cache hit: the cached blocks covering a request's leading tokens.
 *
 * @param blocks the cached block ids in prefix order (not yet referenced by the request)
 * @param tokens tokens covered, {@code blocks.length * blockSize}
 */
public record PrefixHit(int[] blocks, int tokens) {
    /** No hit. */
    public static final PrefixHit NONE = new PrefixHit(new int[0], 0);

    /** Number of hit blocks. */
    public int numBlocks() {
        return blocks.length;
    }
}
