package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;

/** How a worker's KV cache is arranged in memory. */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public enum LayoutKind {
    /** One region per layer; a block's data for all layers is {@code numLayers} separate pieces. */
    PER_LAYER,
    /** One block of all layers is contiguous; a block moves in one copy. */
    CROSS_LAYER
}
