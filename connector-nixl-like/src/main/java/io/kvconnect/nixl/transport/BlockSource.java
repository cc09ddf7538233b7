package io.kvconnect.nixl.transport;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import java.util.List;
import java.util.Optional;

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
     * Opens a send of the blocks {@code blocks} of {@code transfer} straight from the KV cache into
     * the connection, with no copy into staging, where the engine can do that (its KV cache is host
     * memory); checked and counted as {@link #read} is, and the transfer's lease renewed. The
     * blocks stay held until the send is closed. The default sends nothing directly.
     *
     * @return the send, or empty if the blocks must be staged with {@link #read} (nothing was
     *     checked, renewed or counted then)
     * @throws TransferException as {@link #read}
     */
    default Optional<DirectSend> openSend(TransferRef transfer, int[] blocks) throws TransferException {
        return Optional.empty();
    }

    /**
     * A reader is done with {@code transfer}. Unknown and repeated ids are logged and ignored.
     *
     * @param connection the connection the notice came on, unique per listener: a notice of a
     *     transfer not exposed yet is kept per connection, so that another connection's notice
     *     cannot replace it
     * @throws TransferException with kind {@code FAILED} if the token is not the transfer's: then
     *     nothing is freed (the refusal is counted)
     */
    void done(TransferRef transfer, long connection) throws TransferException;

    /**
     * A reader is done with every one of {@code transfers} (one notice frame on {@code
     * connection}). Each is taken as {@link #done(TransferRef, long)} takes it; a wrong token does
     * not keep the others from being freed. The default takes them one by one.
     *
     * @throws TransferException with kind {@code FAILED} if the token of one or more was not the
     *     transfer's, naming how many; those are not freed
     */
    default void done(List<TransferRef> transfers, long connection) throws TransferException {
        TransferException first = null;
        int refused = 0;
        for (TransferRef t : transfers) {
            try {
                done(t, connection);
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
