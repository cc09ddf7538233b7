package io.kvconnect.nixl.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The payload of a {@code READ} (TCP) or {@code STAGE} (UCX) request: a transfer with the token the
 * reader presents, and the producer's block ids to read. Immutable once built (the array is not
 * copied: callers do not write it afterwards).
 *
 * <p>Form (big-endian): the transfer ({@link TransferRef#encode()}), the block count (4 bytes), the
 * block ids (4 bytes each).
 *
 * @param transfer the transfer and the token the reader presented
 * @param blocks the producer's block ids to read, at least one
 */
public record ReadRequest(TransferRef transfer, int[] blocks) {
    /**
     * Most blocks one request may name: the largest {@code chunk_blocks}. {@link #decode} does not
     * check it (a control frame may name up to a quarter million blocks); the producer refuses a
     * larger request before it sizes anything for it.
     */
    public static final int MAX_BLOCKS = 4096;

    /** The payload's bytes. */
    public byte[] encode() {
        byte[] head = transfer.encode();
        var buf = ByteBuffer.allocate(head.length + 4 + 4 * blocks.length);
        buf.put(head).putInt(blocks.length);
        for (int b : blocks) {
            buf.putInt(b);
        }
        return buf.array();
    }

    /**
     * Parses {@link #encode()}'s form.
     *
     * @throws IOException if malformed: a malformed transfer, or a block count that is not positive
     *     or exceeds the payload
     */
    public static ReadRequest decode(byte[] payload) throws IOException {
        var req = ByteBuffer.wrap(payload);
        TransferRef ref = TransferRef.decode(req);
        if (req.remaining() < 4) {
            throw new IOException("malformed read request");
        }
        int n = req.getInt();
        if (n <= 0 || n > req.remaining() / 4) {
            throw new IOException("malformed read request: " + n + " blocks");
        }
        int[] blocks = new int[n];
        for (int i = 0; i < n; i++) {
            blocks[i] = req.getInt();
        }
        return new ReadRequest(ref, blocks);
    }
}
