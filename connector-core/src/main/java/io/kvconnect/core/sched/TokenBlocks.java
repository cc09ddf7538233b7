package io.kvconnect.core.sched;

/**
 * Token counts to block counts for one block size. The scheduler converts a few times per request
 * and step; an integer division by a size known only at run time costs tens of cycles on common
 * processors, several times per request, so a power-of-two size (the usual case) shifts instead.
 * Other sizes divide.
 *
 * <p>Immutable; any thread.
 */
final class TokenBlocks {
    private final int blockSize;
    /** {@code log2(blockSize)} if the size is a power of two, else -1. */
    private final int shift;

    /**
     * @param blockSize tokens per block, positive
     * @throws IllegalArgumentException if {@code blockSize} is not positive
     */
    TokenBlocks(int blockSize) {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        }
        this.blockSize = blockSize;
        this.shift = Integer.bitCount(blockSize) == 1 ? Integer.numberOfTrailingZeros(blockSize) : -1;
    }

    /** The full blocks of {@code tokens} tokens ({@code tokens >= 0}): {@code tokens / blockSize}. */
    int full(int tokens) {
        return shift >= 0 ? tokens >>> shift : tokens / blockSize;
    }

    /**
     * The blocks that hold {@code tokens} tokens ({@code 0 <= tokens <= Integer.MAX_VALUE -
     * blockSize + 1}): {@code ceil(tokens / blockSize)}.
     */
    int covering(int tokens) {
        return full(tokens + blockSize - 1);
    }
}
