package io.kvconnect.core.memory;

import java.io.Serial;

/**
 * A host buffer refused because it would exceed the engine's {@link HostMemoryBudget}. An {@link
 * OutOfMemoryError}, as {@code BlockCopyService.allocateHostBuffer} documents for memory that cannot
 * be had; its own type lets the engine tell a configured limit from an exhausted machine when it
 * reports a failed start.
 */
public final class HostMemoryBudgetExceededError extends OutOfMemoryError {
    @Serial
    private static final long serialVersionUID = 1L;

    /** @param message names the buffer, the budget and its configuration key */
    public HostMemoryBudgetExceededError(String message) {
        super(message);
    }
}
