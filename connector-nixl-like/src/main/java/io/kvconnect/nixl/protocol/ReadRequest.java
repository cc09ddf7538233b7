package io.kvconnect.nixl.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The payload of a {@code READ} (TCP) or {@code STAGE} (UCX) request: a transfer with the token the
 * reader presents, and the producer's blocks to read as descriptors, each a run of consecutive
 * block ids ({@code first}, {@code count}): a contiguous run of blocks is one descriptor, not one
 * per block. Immutable once built (the array is not copied: callers do not write it afterwards).
 *
 * <p>Form (big-endian): the transfer ({@link TransferRef#encode()}), the descriptor count (4
 * bytes), then per descriptor its first block id and its block count (4 bytes each).
 *
 * <p>Everything in it is the reader's word. {@link #decode} refuses a malformed payload (a count
 * that does not match the payload, a run that is empty, negative or runs past the largest block
 * id); {@link #blocks()} refuses, before it allocates anything for them, runs that name more than
 * {@value #MAX_BLOCKS} blocks in all or overlap one another. Whether each block belongs to the
 * transfer is the producer's {@code BlockSource}'s check, made per block, so a run is validated
 * exactly as strictly as the blocks it stands for.
 *
 * @param transfer the transfer and the token the reader presented
 * @param runs the descriptors, flattened: {@code first0, count0, first1, count1, ...}; at least one
 */
public record ReadRequest(TransferRef transfer, int[] runs) {
    /**
     * Most blocks one request may name: the largest {@code chunk_blocks}. {@link #decode} does not
     * check it; {@link #blocks()} does, before it expands the runs.
     */
    public static final int MAX_BLOCKS = 4096;

    /** The request for {@code blocks}, in order, with each run of consecutive ascending ids as one descriptor. */
    public static ReadRequest of(TransferRef transfer, int[] blocks) {
        if (blocks.length == 0) {
            throw new IllegalArgumentException("a read names at least one block");
        }
        int[] runs = new int[2 * blocks.length];
        int n = 0;
        for (int i = 0; i < blocks.length; ) {
            int j = i + 1;
            while (j < blocks.length && blocks[j - 1] != Integer.MAX_VALUE && blocks[j] == blocks[j - 1] + 1) {
                j++;
            }
            runs[n++] = blocks[i];
            runs[n++] = j - i;
            i = j;
        }
        return new ReadRequest(transfer, Arrays.copyOf(runs, n));
    }

    /** The number of descriptors (runs). */
    public int descriptors() {
        return runs.length / 2;
    }

    /** The number of blocks the runs name in all (a long: the reader's counts may be large). */
    public long blockCount() {
        long n = 0;
        for (int i = 1; i < runs.length; i += 2) {
            n += runs[i];
        }
        return n;
    }

    /**
     * The block ids, in request order: slot {@code i} of the answer holds the {@code i}-th.
     *
     * @throws TransferException with kind {@code FAILED} if the runs name more than {@value
     *     #MAX_BLOCKS} blocks (checked before anything is allocated) or overlap one another
     */
    public int[] blocks() throws TransferException {
        long n = blockCount();
        if (n > MAX_BLOCKS) {
            throw new TransferException(
                    TransferException.Kind.FAILED,
                    "a read of " + n + " blocks; at most " + MAX_BLOCKS + " per request");
        }
        // Sorted by first block (the index rides in the low bits), each run must start at or after
        // the end of the one below it.
        long[] keys = new long[descriptors()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = ((long) runs[2 * i] << 32) | i;
        }
        Arrays.sort(keys);
        long end = Long.MIN_VALUE;
        for (long k : keys) {
            int d = (int) k;
            long first = runs[2 * d];
            if (first < end) {
                throw new TransferException(
                        TransferException.Kind.FAILED,
                        "the read's runs overlap: the run of " + runs[2 * d + 1] + " block(s) from block " + first
                                + " starts before the run below it ends");
            }
            end = first + runs[2 * d + 1];
        }
        int[] blocks = new int[(int) n];
        int k = 0;
        for (int i = 0; i < runs.length; i += 2) {
            for (int b = 0; b < runs[i + 1]; b++) {
                blocks[k++] = runs[i] + b;
            }
        }
        return blocks;
    }

    /** The payload's bytes. */
    public byte[] encode() {
        byte[] head = transfer.encode();
        var buf = ByteBuffer.allocate(head.length + 4 + 4 * runs.length);
        buf.put(head).putInt(descriptors());
        for (int v : runs) {
            buf.putInt(v);
        }
        return buf.array();
    }

    /**
     * Parses {@link #encode()}'s form.
     *
     * @throws IOException if malformed: a malformed transfer, a descriptor count that is not
     *     positive or does not match the payload's length, or a run that is empty, starts below 0
     *     or ends past the largest block id
     */
    public static ReadRequest decode(byte[] payload) throws IOException {
        var req = ByteBuffer.wrap(payload);
        TransferRef ref = TransferRef.decode(req);
        if (req.remaining() < 4) {
            throw new IOException("malformed read request");
        }
        int n = req.getInt();
        if (n <= 0 || n > req.remaining() / 8 || req.remaining() != 8 * n) {
            throw new IOException("malformed read request: " + n + " descriptors in " + req.remaining() + " bytes");
        }
        int[] runs = new int[2 * n];
        for (int i = 0; i < runs.length; i += 2) {
            int first = req.getInt();
            int count = req.getInt();
            if (first < 0 || count <= 0 || (long) first + count - 1 > Integer.MAX_VALUE) {
                throw new IOException("malformed read request: a run of " + count + " block(s) from block " + first);
            }
            runs[i] = first;
            runs[i + 1] = count;
        }
        return new ReadRequest(ref, runs);
    }
}
