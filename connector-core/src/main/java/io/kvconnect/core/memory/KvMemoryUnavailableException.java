package io.kvconnect.core.memory;

import java.io.Serial;

/**
 * A worker's KV cache could not be allocated at engine start: the machine did not give the memory.
 * The message names the cache's size and shape; the engine reports it as a configuration problem
 * (too many blocks or workers for this machine) rather than as a crash.
 */
public final class KvMemoryUnavailableException extends IllegalStateException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * @param message the size that could not be had and why
     * @param cause the {@link OutOfMemoryError} of the allocation
     */
    public KvMemoryUnavailableException(String message, OutOfMemoryError cause) {
        super(message, cause);
    }
}
