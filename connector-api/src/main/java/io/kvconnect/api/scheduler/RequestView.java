package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;
import io.kvconnect.api.common.BlockHash;
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

    /** {@return the tokens whose KV is written and confirmed (see the class comment)} */
    int numComputedTokens();

    /**
     * {@return the positions scheduled under asynchronous scheduling whose sampled tokens are not
     * known yet} Always 0 with the synchronous scheduler.
     */
    int numOutputPlaceholders();

    /** {@return the most output tokens the request may produce} */
    int maxTokens();

    /**
     * {@return the chained hashes of the request's full blocks, in order} Element {@code i} covers tokens
     * {@code [i * blockSize, (i + 1) * blockSize)}. Grows as tokens are appended. An immutable
     * snapshot taken at the call; on hot paths prefer {@link #numBlockHashes()} and {@link
     * #blockHash(int)}, which copy nothing.
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
     * #blockHashes()}; the engine's views override it without copying.
     *
     * @param index a block index, {@code 0 <= index < numBlockHashes()}
     */
    default BlockHash blockHash(int index) {
        return blockHashes().get(index);
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
