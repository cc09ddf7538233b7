package io.kvconnect.core.model;

/**
 * A block read whose content is not what the verifying model expects.
 *
 * @param requestId the request that read it
 * @param blockId the GPU block
 * @param layer the layer
 * @param position the token position within the request
 * @param rank the worker
 */
public record KvMismatch(String requestId, int blockId, int layer, int position, int rank) {
    @Override
    public String toString() {
        return "request " + requestId + " read wrong KV in block " + blockId + ", layer " + layer + ", position "
                + position + " on worker " + rank;
    }
}
