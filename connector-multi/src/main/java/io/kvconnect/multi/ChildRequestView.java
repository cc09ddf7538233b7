package io.kvconnect.multi;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import java.util.List;
import java.util.Optional;

/**
 * A request as one child sees it: the engine's live view, except that {@link #transferParams()}
 * is the child's own part of the request's parameters (see {@link ChildScope#view}). Every other
 * method reads the engine's view live, at each call, so the child sees exactly what it would see
 * alone. Scheduler thread only, like the view it wraps.
 *
 * @param request the engine's view
 * @param transferParams this child's parameters
 */
record ChildRequestView(RequestView request, TransferParams transferParams) implements RequestView {
    @Override
    public String requestId() {
        return request.requestId();
    }

    @Override
    public RequestStatus status() {
        return request.status();
    }

    @Override
    public int numPromptTokens() {
        return request.numPromptTokens();
    }

    @Override
    public int numTokens() {
        return request.numTokens();
    }

    @Override
    public int tokenId(int index) {
        return request.tokenId(index);
    }

    @Override
    public int[] tokenIds(int from, int to) {
        return request.tokenIds(from, to);
    }

    @Override
    public int numComputedTokens() {
        return request.numComputedTokens();
    }

    @Override
    public int numOutputPlaceholders() {
        return request.numOutputPlaceholders();
    }

    @Override
    public int maxTokens() {
        return request.maxTokens();
    }

    @Override
    public List<BlockHash> blockHashes() {
        return request.blockHashes();
    }

    @Override
    public int numBlockHashes() {
        return request.numBlockHashes();
    }

    @Override
    public BlockHash blockHash(int index) {
        return request.blockHash(index);
    }

    @Override
    public BlockIds blockIds() {
        return request.blockIds();
    }

    @Override
    public int numBlocks() {
        return request.numBlocks();
    }

    @Override
    public int blockId(int index) {
        return request.blockId(index);
    }

    @Override
    public Optional<String> cacheSalt() {
        return request.cacheSalt();
    }

    @Override
    public int numPreemptions() {
        return request.numPreemptions();
    }

    @Override
    public int priority() {
        return request.priority();
    }
}
