package io.kvconnect.api.scheduler;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.Stability;
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
@Stability(Stability.Level.EVOLVING)
public interface RequestView {
    /** The request id, unique within the engine. */
    String requestId();

    /** The current status. */
    RequestStatus status();

    /** Number of prompt tokens. */
    int numPromptTokens();

    /** Number of known tokens: the prompt plus the output tokens sampled so far. */
    int numTokens();

    /** The token id at {@code index}, {@code 0 <= index < numTokens()}. */
    int tokenId(int index);

    /** A copy of the token ids in {@code [from, to)}. */
    int[] tokenIds(int from, int to);

    /** Tokens whose KV is written and confirmed (see the class comment). */
    int numComputedTokens();

    /**
     * Positions scheduled under asynchronous scheduling whose sampled tokens are not known yet;
     * always 0 with the synchronous scheduler.
     */
    int numOutputPlaceholders();

    /** The most output tokens the request may produce. */
    int maxTokens();

    /**
     * Chained hashes of the request's full blocks, in order: element {@code i} covers tokens
     * {@code [i * blockSize, (i + 1) * blockSize)}. Grows as tokens are appended. An immutable
     * snapshot taken at the call; on hot paths prefer {@link #numBlockHashes()} and {@link
     * #blockHash(int)}, which copy nothing.
     */
    List<BlockHash> blockHashes();

    /**
     * Number of full blocks hashed so far ({@code numTokens() / blockSize}). The default copies
     * through {@link #blockHashes()}; the engine's views override it without copying.
     */
    default int numBlockHashes() {
        return blockHashes().size();
    }

    /**
     * The hash of full block {@code index}, {@code 0 <= index < numBlockHashes()}. The default
     * copies through {@link #blockHashes()}; the engine's views override it without copying.
     */
    default BlockHash blockHash(int index) {
        return blockHashes().get(index);
    }

    /** The transfer parameters the request arrived with; empty if none. */
    TransferParams transferParams();

    /** The cache salt that keeps this request's prefix apart from others', if any. */
    Optional<String> cacheSalt();

    /** How often the request was preempted so far. */
    int numPreemptions();

    /** Scheduling priority; lower values are scheduled first under priority scheduling. */
    int priority();
}
