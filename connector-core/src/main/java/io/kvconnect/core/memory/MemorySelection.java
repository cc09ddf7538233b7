package io.kvconnect.core.memory;

/**
 * Where the workers' KV caches live, as configured (engine key {@code memory}): the engine resolves
 * it at start with {@link MemoryPlacement#resolve}.
 */
public enum MemorySelection {
    /** CUDA device memory when a device is usable, host memory otherwise (the log and report say why). */
    AUTO,
    /** Off-heap host memory. */
    HOST,
    /** CUDA device memory; a configuration error naming the reason where none is usable. */
    CUDA
}
