package io.kvconnect.api.worker;

import io.kvconnect.api.common.Stability;

/** Where a worker's KV cache lives. */
@Stability(Stability.Level.STABLE)
public enum MemoryKind {
    /** Off-heap host memory. */
    HOST,
    /** Device memory of a CUDA GPU. */
    CUDA_DEVICE
}
