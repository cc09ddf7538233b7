package io.kvconnect.multi;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * A request with {@code numTokens} prompt tokens (token i has id i), nothing computed, and the
 * given transfer parameters.
 */
record FakeRequest(String requestId, int numTokens, TransferParams transferParams) implements RequestView {
    FakeRequest(String requestId) {
        this(requestId, 64, TransferParams.empty());
    }

    @Override
    public RequestStatus status() {
        return RequestStatus.WAITING;
    }

    @Override
    public int numPromptTokens() {
        return numTokens;
    }

    @Override
    public int tokenId(int index) {
        return index;
    }

    @Override
    public int[] tokenIds(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    @Override
    public int numComputedTokens() {
        return 0;
    }

    @Override
    public int numOutputPlaceholders() {
        return 0;
    }

    @Override
    public int maxTokens() {
        return 8;
    }

    @Override
    public List<BlockHash> blockHashes() {
        return IntStream.range(0, numTokens / 4).mapToObj(i -> new BlockHash(requestId.hashCode(), i, 0, 0)).toList();
    }

    @Override
    public Optional<String> cacheSalt() {
        return Optional.empty();
    }

    @Override
    public int numPreemptions() {
        return 0;
    }

    @Override
    public int priority() {
        return 0;
    }
}
