package io.kvconnect.core.kv;

import io.kvconnect.api.common.BlockHash;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One request's block hashes in prefix order, each stored as its four words in one {@code long}
 * array; a growable list that is only ever appended to.
 *
 * <p><b>Why not a {@code List<BlockHash>}.</b> A decoding request fills a block every block size
 * steps, so at 256 running requests with blocks of 16 tokens sixteen blocks fill per step. A record
 * per filled block was 48 bytes of garbage each, most of what steady decode allocated. Here a
 * filled block writes four longs into the array sized when the request arrived, the prefix cache
 * reads them where they are ({@link BlockPool#cache(int[], int, int, BlockHashChain)}), and a
 * {@link BlockHash} is made only for a caller that asks for one ({@link #get}: a connector, an
 * event, an error message).
 *
 * <p><b>Thread.</b> Not thread-safe: the scheduler thread only, like the request that holds it.
 */
public final class BlockHashChain {
    private static final int WORDS = 4;

    private long[] words;
    private int size;

    /** An empty chain with room for {@code expectedBlocks} hashes before it grows. */
    public BlockHashChain(int expectedBlocks) {
        if (expectedBlocks < 0) {
            throw new IllegalArgumentException("expected blocks must be at least 0, got " + expectedBlocks);
        }
        words = new long[Math.max(1, expectedBlocks) * WORDS];
    }

    /** A chain of {@code hashes}, in order. */
    static BlockHashChain of(List<BlockHash> hashes) {
        BlockHashChain chain = new BlockHashChain(hashes.size());
        for (BlockHash h : hashes) {
            chain.add(h);
        }
        return chain;
    }

    /** Number of hashes. */
    public int size() {
        return size;
    }

    /**
     * The hash at {@code index}, as a new record.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not below {@link #size()}
     */
    public BlockHash get(int index) {
        Objects.checkIndex(index, size);
        int at = index * WORDS;
        return new BlockHash(words[at], words[at + 1], words[at + 2], words[at + 3]);
    }

    /** The hashes as an immutable list of new records. */
    public List<BlockHash> toList() {
        BlockHash[] out = new BlockHash[size];
        for (int i = 0; i < size; i++) {
            out[i] = get(i);
        }
        return List.of(out);
    }

    /** Appends {@code hash}. */
    void add(BlockHash hash) {
        add(hash.h0(), hash.h1(), hash.h2(), hash.h3());
    }

    /** Appends the hash of words {@code h0} to {@code h3}. */
    void add(long h0, long h1, long h2, long h3) {
        if ((size + 1) * WORDS > words.length) {
            words = Arrays.copyOf(words, Math.max(words.length * 2, (size + 1) * WORDS));
        }
        int at = size * WORDS;
        words[at] = h0;
        words[at + 1] = h1;
        words[at + 2] = h2;
        words[at + 3] = h3;
        size++;
    }

    /** Word {@code word} (0 to 3, as {@link BlockHash#h0()} to {@code h3()}) of hash {@code index}; unchecked. */
    long word(int index, int word) {
        return words[index * WORDS + word];
    }
}
