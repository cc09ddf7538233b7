package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;

/** Where a worker's KV cache lives. */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public enum MemoryKind {
    /** Off-heap host memory. */
    HOST,
    /** Device memory of a CUDA GPU. */
    CUDA_DEVICE
}
