package io.kvconnect.offload;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import java.util.List;
import java.util.Optional;

/** A request view that answers through another; the mutants override what they break. */
class ForwardingRequestView implements RequestView {
    private final RequestView delegate;

    ForwardingRequestView(RequestView delegate) {
        this.delegate = delegate;
    }

    final RequestView delegate() {
        return delegate;
    }

    @Override
    public String requestId() {
        return delegate.requestId();
    }

    @Override
    public RequestStatus status() {
        return delegate.status();
    }

    @Override
    public int numPromptTokens() {
        return delegate.numPromptTokens();
    }

    @Override
    public int numTokens() {
        return delegate.numTokens();
    }

    @Override
    public int tokenId(int index) {
        return delegate.tokenId(index);
    }

    @Override
    public int[] tokenIds(int from, int to) {
        return delegate.tokenIds(from, to);
    }

    @Override
    public int numComputedTokens() {
        return delegate.numComputedTokens();
    }

    @Override
    public int numOutputPlaceholders() {
        return delegate.numOutputPlaceholders();
    }

    @Override
    public int maxTokens() {
        return delegate.maxTokens();
    }

    @Override
    public List<BlockHash> blockHashes() {
        return delegate.blockHashes();
    }

    @Override
    public int numBlockHashes() {
        return delegate.numBlockHashes();
    }

    @Override
    public BlockHash blockHash(int index) {
        return delegate.blockHash(index);
    }

    @Override
    public BlockIds blockIds() {
        return delegate.blockIds();
    }

    @Override
    public int numBlocks() {
        return delegate.numBlocks();
    }

    @Override
    public int blockId(int index) {
        return delegate.blockId(index);
    }

    @Override
    public TransferParams transferParams() {
        return delegate.transferParams();
    }

    @Override
    public Optional<String> cacheSalt() {
        return delegate.cacheSalt();
    }

    @Override
    public int numPreemptions() {
        return delegate.numPreemptions();
    }

    @Override
    public int priority() {
        return delegate.priority();
    }
}
