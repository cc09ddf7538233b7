package io.kvconnect.nixl.transport;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import java.util.Arrays;
import java.util.List;

/**
 * The producer worker's side of one-sided reads, called by the transport's connection threads
 * (never by the engine's threads). Implementations are thread-safe.
 */
public interface BlockSource {
    /** Bytes of one canonical block. */
    long blockBytes();

    /** A staging buffer of {@code slots} blocks for one connection; the transport closes it. */
    HostBlockBuffer allocateStaging(int slots);

    /**
     * Checks that {@code blocks} of {@code transfer} could be read now, without copying or
     * renewing anything: the transport calls it before it sizes a staging buffer for the request,
     * so a request naming more blocks than the transfer holds (a hostile or broken reader) is
     * refused before any memory is allocated for it. A later {@link #read} checks again.
     *
     * @throws TransferException as {@link #read}, and with kind {@code FAILED} if the request names
     *     more blocks than the transfer holds
     */
    void check(TransferRef transfer, int[] blocks) throws TransferException;

    /**
     * Copies the blocks {@code blocks} of {@code transfer} into slots {@code 0 .. blocks.length -
     * 1} of {@code staging} and renews the transfer's lease. Returns once the copy is complete; the
     * blocks stay held while it runs. A request whose token is not the transfer's is refused
     * (and counted) without copying or renewing anything.
     *
     * @throws TransferException with kind {@code UNKNOWN_TRANSFER} if the transfer is not known
     *     (yet), {@code EXPIRED} if its lease expired or it was completed, {@code FAILED} if the
     *     token is wrong, a block is not part of the transfer or the copy failed
     */
    void read(TransferRef transfer, int[] blocks, HostBlockBuffer staging) throws TransferException;

    /**
     * Starts copying {@code blocks} of {@code transfer} into slots {@code 0 .. blocks.length - 1} of
     * {@code staging} in pieces of {@code pieceBlocks} blocks (the last may be shorter), checked and
     * lease renewed as by {@link #read}, and returns at once: the TCP transport writes piece {@code
     * k} to the socket while piece {@code k + 1} is still being copied. The blocks stay held until
     * the returned read is closed. Called on the transport's connection threads.
     *
     * <p>The default is for sources whose copy is not asynchronous: it copies each piece with
     * {@link #read} when the transport first waits for it, on the connection thread, which then
     * copies the next piece while the reader drains the socket of the one before.
     *
     * @throws TransferException as {@link #read}, before anything is copied
     */
    default StagedRead stage(TransferRef transfer, int[] blocks, HostBlockBuffer staging, int pieceBlocks)
            throws TransferException {
        check(transfer, blocks);
        return new StagedRead() {
            private int copied; // pieces copied so far

            @Override
            public void await(int piece) throws TransferException {
                while (copied <= piece) {
                    int from = copied * pieceBlocks;
                    int to = Math.min(blocks.length, from + pieceBlocks);
                    read(transfer, Arrays.copyOfRange(blocks, from, to), new SlotRange(staging, from, to - from));
                    copied++;
                }
            }

            @Override
            public void close() {}
        };
    }

    /**
     * A copy out of KV memory started by {@link #stage}, in pieces that complete in order. Used by
     * the one connection thread that started it.
     */
    interface StagedRead extends AutoCloseable {
        /**
         * Waits until piece {@code piece} (and every piece before it) holds its blocks.
         *
         * @throws TransferException with kind {@code FAILED} if its copy failed or the wait was
         *     interrupted
         */
        void await(int piece) throws TransferException;

        /**
         * Ends the read: waits for the copies still running (they write the staging buffer, which
         * the caller reuses next), then lets the transfer's blocks go. Idempotent.
         */
        @Override
        void close();
    }

    /**
     * A reader is done with {@code transfer}. Unknown and repeated ids are logged and ignored.
     *
     * @throws TransferException with kind {@code FAILED} if the token is not the transfer's: then
     *     nothing is freed (the refusal is counted)
     */
    void done(TransferRef transfer) throws TransferException;

    /**
     * A reader is done with every one of {@code transfers} (one notice frame). Each is taken as
     * {@link #done(TransferRef)} takes it; a wrong token does not keep the others from being freed.
     * The default takes them one by one.
     *
     * @throws TransferException with kind {@code FAILED} if the token of one or more was not the
     *     transfer's, naming how many; those are not freed
     */
    default void done(List<TransferRef> transfers) throws TransferException {
        TransferException first = null;
        int refused = 0;
        for (TransferRef t : transfers) {
            try {
                done(t);
            } catch (TransferException e) {
                refused++;
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw new TransferException(
                    first.kind(),
                    refused + " of " + transfers.size() + " transfer(s) refused; the first: " + first.getMessage());
        }
    }
}
