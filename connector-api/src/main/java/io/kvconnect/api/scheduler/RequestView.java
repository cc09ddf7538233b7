package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;
import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.TransferParams;
import java.util.List;
import java.util.Optional;

/**
 * A read-only view of one request, handed to scheduler-side hooks.
 *
 * <p><b>Thread and lifetime.</b> A view reads the engine's request live: it is valid on the
 * scheduler thread, during and between hook calls, for as long as the engine knows the request. A
 * connector may keep it to read later on the scheduler thread; it must not read it from another
 * thread. There is no method that changes the request.
 *
 * <p><b>Computed tokens.</b> {@link #numComputedTokens()} is the number of leading tokens whose KV
 * is written in (or loaded into) the request's blocks and confirmed, computed from the live request
 * at each call. Under asynchronous scheduling the engine schedules the next step before the
 * previous step's tokens are known; those scheduled-but-unconfirmed positions are {@link
 * #numOutputPlaceholders()} and are <em>not</em> counted. A connector that offloads or sends KV
 * must use {@code numComputedTokens()}; it can never see a stale snapshot.
 *
 * <p><b>Blocks.</b> {@link #blockIds()} (and {@link #numBlocks()}, {@link #blockId(int)}) read the
 * request's block table as it is at the call. The table changes between hook calls: blocks are
 * appended as the request grows, all of them go back to the pool when it is preempted, and they
 * are freed once it finished (unless the free was delayed). So an id read during a hook is valid
 * during that hook call only; a connector that needs a block beyond it keeps it alive itself (a
 * delayed free, or a {@link GPUBlockPoolView#touch} reference). When each block is valid and which
 * hook may do what with it is in {@code docs/connector-lifecycle.md}.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface RequestView {
    /** {@return the request id, unique within the engine} */
    String requestId();

    /** {@return the current status} */
    RequestStatus status();

    /** {@return the number of prompt tokens} */
    int numPromptTokens();

    /** {@return the number of known tokens: the prompt plus the output tokens sampled so far} */
    int numTokens();

    /**
     * {@return the token id at {@code index}}
     *
     * @param index a position, {@code 0 <= index < numTokens()}
     */
    int tokenId(int index);

    /**
     * {@return a copy of the token ids in {@code [from, to)}}
     *
     * @param from the first position, inclusive
     * @param to the last position, exclusive; {@code from <= to <= numTokens()}
     */
    int[] tokenIds(int from, int to);

    /** {@return the number of leading tokens whose KV is written and confirmed (see the class comment)} */
    int numComputedTokens();

    /**
     * {@return the number of positions scheduled under asynchronous scheduling whose sampled tokens
     * are not known yet} Always 0 with the synchronous scheduler.
     */
    int numOutputPlaceholders();

    /** {@return the largest number of output tokens the request may produce} */
    int maxTokens();

    /**
     * {@return the chained hashes of the request's full blocks, in order} Element {@code i} covers tokens
     * {@code [i * blockSize, (i + 1) * blockSize)}. Grows as tokens are appended. An immutable
     * snapshot taken at the call; on hot paths prefer {@link #numBlockHashes()} and {@link
     * #blockHash(int)}, which copy no list.
     */
    List<BlockHash> blockHashes();

    /**
     * {@return the number of full blocks hashed so far ({@code numTokens() / blockSize})} The default copies
     * through {@link #blockHashes()}; the engine's views override it without copying.
     */
    default int numBlockHashes() {
        return blockHashes().size();
    }

    /**
     * {@return the hash of full block {@code index}} The default copies through {@link
     * #blockHashes()}; the engine's views override it without copying the list. Equal on every
     * call, not necessarily the same object.
     *
     * @param index a block index, {@code 0 <= index < numBlockHashes()}
     */
    default BlockHash blockHash(int index) {
        return blockHashes().get(index);
    }

    /**
     * {@return the request's block table now: the GPU block ids it owns, in block order} Element
     * {@code i} of group 0 holds tokens {@code [i * blockSize, (i + 1) * blockSize)}, laid out
     * {@code | local hit | external | new |} after an allocation. Empty while the request owns no
     * blocks (waiting, or preempted); for a finished request whose free was delayed, the blocks
     * still held for it. An immutable snapshot, valid during the current hook call only (see the
     * class comment); on hot paths prefer {@link #numBlocks()} and {@link #blockId(int)}, which
     * copy nothing.
     */
    BlockIds blockIds();

    /**
     * {@return the number of blocks the request owns now, in group 0} Valid during the current
     * hook call only. The default copies through {@link #blockIds()}; the engine's views override
     * it without copying.
     */
    default int numBlocks() {
        return blockIds().size();
    }

    /**
     * {@return the id of block {@code index} of the request's block table now, in group 0} Valid
     * during the current hook call only. The default copies through {@link #blockIds()}; the
     * engine's views override it without copying.
     *
     * @param index a block index, {@code 0 <= index < numBlocks()}
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    default int blockId(int index) {
        return blockIds().get(index);
    }

    /** {@return the transfer parameters the request arrived with; empty if none} */
    TransferParams transferParams();

    /** {@return the cache salt that keeps this request's prefix apart from others', if any} */
    Optional<String> cacheSalt();

    /** {@return how often the request was preempted so far} */
    int numPreemptions();

    /** {@return scheduling priority; lower values are scheduled first under priority scheduling} */
    int priority();
}
