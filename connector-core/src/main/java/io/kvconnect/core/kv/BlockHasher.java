package io.kvconnect.core.kv;

import io.kvconnect.api.common.BlockHash;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Chained block hashes: {@code hash(block i) = SHA-256(hash(block i-1) or NONE, token ids of block
 * i, extra keys)}. The cache salt is an extra key of the first block only, so it separates whole
 * prefixes. Equal hashes therefore mean equal prefixes, which is what makes a prefix-cache or
 * connector hit safe.
 *
 * <p>Unlike the reference engine, whose root hash is random per process unless a seed is set, the
 * root ({@link #NONE}) is a fixed constant: hashes are stable across processes and machines, which
 * prefill/decode disaggregation and shared external caches need.
 *
 * <p>Not thread-safe (it keeps one digest); the engine uses one per scheduler thread.
 */
public final class BlockHasher {
    /** The parent of the first block. */
    public static final BlockHash NONE = sha256("kvconnect:block-hash-root:v1".getBytes(StandardCharsets.UTF_8));

    // Big-endian views of a byte array (the layout BlockHash#toBytes uses). A ByteBuffer wrapping
    // the arrays did the same, but each of its 20 puts per block went through the buffer's
    // memory-session check, and in some runs the compiled code kept those calls: a block then took
    // about 190 ns instead of 117 (the digest alone takes about 107).
    private static final VarHandle BIG_ENDIAN_INT =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle BIG_ENDIAN_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private final MessageDigest digest = newDigest();
    /** Parent hash, token bytes and the salt marker of the block being hashed. */
    private final byte[] blockBytes;

    private final byte[] digestBytes = new byte[BlockHash.BYTES];

    private final int blockSize;

    /** A hasher for blocks of {@code blockSize} tokens. */
    public BlockHasher(int blockSize) {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        }
        this.blockSize = blockSize;
        this.blockBytes = new byte[BlockHash.BYTES + blockSize * Integer.BYTES + 1];
    }

    /** Tokens per block. */
    public int blockSize() {
        return blockSize;
    }

    /**
     * The hash of the full block of {@code tokens[from, from + blockSize)}.
     *
     * @param parent the previous block's hash, or {@code null} for the first block
     * @param salt the cache salt; only used for the first block
     */
    public BlockHash hash(@Nullable BlockHash parent, int[] tokens, int from, Optional<String> salt) {
        if (parent == null) {
            digestBlock(true, NONE.h0(), NONE.h1(), NONE.h2(), NONE.h3(), tokens, from, salt);
        } else {
            digestBlock(false, parent.h0(), parent.h1(), parent.h2(), parent.h3(), tokens, from, salt);
        }
        return BlockHash.fromBytes(digestBytes);
    }

    /**
     * Appends to {@code chain} the hash of the next full block of {@code tokens}: the block at
     * {@code chain.size() * blockSize()}, whose parent is the chain's last hash (none for the first
     * block). The same hash as {@link #hash}, without a record.
     *
     * @throws IndexOutOfBoundsException if {@code tokens} does not hold that block; then the chain is
     *     unchanged
     */
    public void appendTo(BlockHashChain chain, int[] tokens, Optional<String> salt) {
        int n = chain.size();
        int from = Math.multiplyExact(n, blockSize);
        if (n == 0) {
            digestBlock(true, NONE.h0(), NONE.h1(), NONE.h2(), NONE.h3(), tokens, from, salt);
        } else {
            int last = n - 1;
            digestBlock(
                    false,
                    chain.word(last, 0),
                    chain.word(last, 1),
                    chain.word(last, 2),
                    chain.word(last, 3),
                    tokens,
                    from,
                    salt);
        }
        byte[] d = digestBytes;
        chain.add(
                (long) BIG_ENDIAN_LONG.get(d, 0),
                (long) BIG_ENDIAN_LONG.get(d, 8),
                (long) BIG_ENDIAN_LONG.get(d, 16),
                (long) BIG_ENDIAN_LONG.get(d, 24));
    }

    /**
     * Digests one block into {@link #digestBytes}: the parent's words {@code p0} to {@code p3},
     * then {@code tokens[from, from + blockSize)}, then the salt if {@code first}.
     */
    private void digestBlock(
            boolean first, long p0, long p1, long p2, long p3, int[] tokens, int from, Optional<String> salt) {
        // Checked before the digest is touched (and without overflowing from + blockSize): a rejected
        // call must not leave bytes in the digest that would corrupt the next hash.
        if (from < 0 || from > tokens.length - blockSize) {
            throw new IndexOutOfBoundsException(
                    "block [" + from + ", " + ((long) from + blockSize) + ") outside " + tokens.length + " tokens");
        }
        // One buffer, parent then tokens then the salt marker, in one update: the digest's
        // per-call bookkeeping (three calls, and copies into its block buffer) was a visible part
        // of hashing the sixteen blocks that fill per step at 256 decoding requests.
        byte[] b = blockBytes;
        BIG_ENDIAN_LONG.set(b, 0, p0);
        BIG_ENDIAN_LONG.set(b, 8, p1);
        BIG_ENDIAN_LONG.set(b, 16, p2);
        BIG_ENDIAN_LONG.set(b, 24, p3);
        for (int i = 0; i < blockSize; i++) {
            BIG_ENDIAN_INT.set(b, BlockHash.BYTES + i * Integer.BYTES, tokens[from + i]);
        }
        int marker = b.length - 1;
        if (first && salt.isPresent()) {
            byte[] s = salt.get().getBytes(StandardCharsets.UTF_8);
            // Length-prefixed so that salt bytes can never be confused with token bytes.
            b[marker] = 1;
            digest.update(b);
            digest.update(new byte[] {
                (byte) (s.length >>> 24), (byte) (s.length >>> 16), (byte) (s.length >>> 8), (byte) s.length
            });
            digest.update(s);
        } else {
            b[marker] = 0;
            digest.update(b);
        }
        // Into a reused buffer: a fresh 32-byte array per filled block was garbage for nothing.
        try {
            digest.digest(digestBytes, 0, BlockHash.BYTES);
        } catch (DigestException e) {
            throw new IllegalStateException("SHA-256 must produce " + BlockHash.BYTES + " bytes", e);
        }
    }

    private static BlockHash sha256(byte[] bytes) {
        return BlockHash.fromBytes(newDigest().digest(bytes));
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime must provide SHA-256", e);
        }
    }
}
