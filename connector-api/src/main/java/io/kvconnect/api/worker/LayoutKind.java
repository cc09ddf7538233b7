package io.kvconnect.api.worker;

import io.kvconnect.api.common.Stability;

/** How a worker's KV cache is arranged in memory. */
@Stability(Stability.Level.STABLE)
public enum LayoutKind {
    /** One region per layer; a block's data for all layers is {@code numLayers} separate pieces. */
    PER_LAYER,
    /** One block of all layers is contiguous; a block moves in one copy. */
    CROSS_LAYER
}
