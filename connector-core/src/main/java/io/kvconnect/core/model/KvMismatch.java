package io.kvconnect.core.model;

import java.util.Objects;

/**
 * A KV slot whose content is not what the verifying model expects.
 *
 * @param requestId the request that read or wrote it
 * @param blockId the GPU block
 * @param layer the layer
 * @param position the token position within the request
 * @param rank the worker
 * @param kind what went wrong
 */
public record KvMismatch(String requestId, int blockId, int layer, int position, int rank, Kind kind) {
    /** Why a slot is wrong, seen from the request that met it. */
    public enum Kind {
        /**
         * The request read wrong KV from a block it did not compute itself: a prefix-cache hit or a
         * connector's load. The block was loaded wrongly, or computed from wrong input by the
         * request that first wrote it.
         */
        WRONG_LOAD("read wrong KV from a block it did not compute (a prefix hit or a load)"),
        /**
         * The request computed KV from wrong input: what it attended to in the layer below held
         * wrong KV, so what it wrote is wrong too (reported when written, and when read again).
         */
        CONTAMINATED("computed KV from wrong input"),
        /** The request read KV it had computed correctly itself, and found it changed since. */
        OVERWRITTEN("found KV it computed itself overwritten");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        /** What the kind means, in words. */
        public String description() {
            return description;
        }
    }

    /** Checks. */
    public KvMismatch {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(kind, "kind");
    }

    @Override
    public String toString() {
        return "request " + requestId + " " + kind.description() + ": block " + blockId + ", layer " + layer
                + ", position " + position + " on worker " + rank;
    }
}
