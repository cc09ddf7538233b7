package io.kvconnect.bench;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.core.kv.BlockHasher;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** A waiting request with a fixed prompt and its block hashes, for lookups outside a scheduler. */
record PromptView(String requestId, int[] tokens, List<BlockHash> blockHashes) implements RequestView {

    /** A view of {@code tokens} with their chained block hashes (full blocks only, no salt). */
    static PromptView of(String id, int[] tokens, BlockHasher hasher) {
        int n = tokens.length / hasher.blockSize();
        BlockHash[] hashes = new BlockHash[n];
        for (int i = 0; i < n; i++) {
            hashes[i] = hasher.hash(i == 0 ? null : hashes[i - 1], tokens, i * hasher.blockSize(), Optional.empty());
        }
        return new PromptView(id, tokens.clone(), List.of(hashes));
    }

    @Override
    public RequestStatus status() {
        return RequestStatus.WAITING;
    }

    /** None: a waiting request owns no blocks. */
    @Override
    public BlockIds blockIds() {
        return BlockIds.empty();
    }

    @Override
    public int numPromptTokens() {
        return tokens.length;
    }

    @Override
    public int numTokens() {
        return tokens.length;
    }

    @Override
    public int tokenId(int index) {
        Objects.checkIndex(index, tokens.length);
        return tokens[index];
    }

    @Override
    public int[] tokenIds(int from, int to) {
        Objects.checkFromToIndex(from, to, tokens.length);
        return Arrays.copyOfRange(tokens, from, to);
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
        return 1;
    }

    @Override
    public int numBlockHashes() {
        return blockHashes.size();
    }

    @Override
    public BlockHash blockHash(int index) {
        return blockHashes.get(index);
    }

    @Override
    public TransferParams transferParams() {
        return TransferParams.empty();
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
