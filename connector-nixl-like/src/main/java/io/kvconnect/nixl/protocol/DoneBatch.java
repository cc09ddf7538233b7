package io.kvconnect.nixl.protocol;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The payload of a {@code DONE_BATCH}: every transfer a reader finished (read or gave up) since its
 * previous notice to that producer worker, so a step's worth of finished loads costs the producer
 * one frame and one answer instead of one per transfer. Immutable.
 *
 * <p>Form (big-endian): the transfer count (4 bytes), then each transfer ({@link
 * TransferRef#encode()}). A batch names 1 to {@value #MAX_TRANSFERS} transfers and fits a control
 * frame; {@link #split} cuts a longer list into such batches.
 *
 * <p>Everything in it is the reader's word: {@link #decode} refuses a count outside that range, a
 * malformed transfer and bytes left over, before anything is done with any of them.
 *
 * @param transfers the transfers, in the order the reader finished them
 */
public record DoneBatch(List<TransferRef> transfers) {
    /** Most transfers one batch names. */
    public static final int MAX_TRANSFERS = 1024;

    public DoneBatch {
        transfers = List.copyOf(transfers);
        if (transfers.isEmpty() || transfers.size() > MAX_TRANSFERS) {
            throw new IllegalArgumentException(
                    "a batch names 1 to " + MAX_TRANSFERS + " transfers, not " + transfers.size());
        }
    }

    /**
     * {@code transfers} as few batches as the limits allow: at most {@value #MAX_TRANSFERS}
     * transfers and {@link Frames#MAX_CONTROL} bytes each, in order.
     */
    public static List<DoneBatch> split(List<TransferRef> transfers) {
        List<DoneBatch> out = new ArrayList<>();
        List<TransferRef> current = new ArrayList<>();
        long bytes = 4;
        for (TransferRef t : transfers) {
            int size = t.encode().length;
            if (!current.isEmpty() && (current.size() == MAX_TRANSFERS || bytes + size > Frames.MAX_CONTROL)) {
                out.add(new DoneBatch(current));
                current = new ArrayList<>();
                bytes = 4;
            }
            current.add(t);
            bytes += size;
        }
        if (!current.isEmpty()) {
            out.add(new DoneBatch(current));
        }
        return out;
    }

    /** The payload's bytes. */
    public byte[] encode() {
        var out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(4).putInt(transfers.size()).array());
        for (TransferRef t : transfers) {
            out.writeBytes(t.encode());
        }
        return out.toByteArray();
    }

    /**
     * Parses {@link #encode()}'s form.
     *
     * @throws IOException if malformed: a count outside 1 to {@value #MAX_TRANSFERS}, a malformed
     *     transfer, or bytes after the last one
     */
    public static DoneBatch decode(byte[] payload) throws IOException {
        var in = ByteBuffer.wrap(payload);
        if (in.remaining() < 4) {
            throw new IOException("malformed done batch of " + payload.length + " bytes");
        }
        int n = in.getInt();
        if (n <= 0 || n > MAX_TRANSFERS) {
            throw new IOException("malformed done batch: " + n + " transfers (1 to " + MAX_TRANSFERS + ")");
        }
        List<TransferRef> transfers = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            transfers.add(TransferRef.decode(in));
        }
        if (in.hasRemaining()) {
            throw new IOException("malformed done batch: " + in.remaining() + " bytes after the last transfer");
        }
        return new DoneBatch(transfers);
    }
}
