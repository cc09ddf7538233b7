package io.kvconnect.core.memory;

/**
 * Fault injection for an {@link EngineBlockCopyService}, so connector tests can see copies stall
 * and fail as they would on a real device. Production services use {@link #NONE}.
 */
@FunctionalInterface
public interface CopyFaults {
    /** Which way a copy moves blocks. */
    enum Direction {
        /** KV cache to host buffer ({@code copyToHost}). */
        TO_HOST,
        /** Host buffer to KV cache ({@code copyFromHost}). */
        FROM_HOST
    }

    /**
     * Called on the service's copy stream thread just before a copy moves any byte. It may sleep or
     * wait (a stalled copy: every later copy of the service waits too, as on a stream) or throw (the
     * copy fails with this exception as the cause, and the stream goes on with the next copy). It
     * must not call the service's {@code close()}, which would wait for this very thread.
     *
     * @param direction which way the copy goes
     * @param blockIds the KV-cache blocks it names, a copy the callee may keep
     * @throws Exception to fail the copy
     */
    void beforeCopy(Direction direction, int[] blockIds) throws Exception;

    /**
     * Whether the service runs loads ({@link Direction#FROM_HOST}) on a stream of their own beside
     * the stores' stream, as a device with one copy engine per direction does, instead of one
     * stream for both. The API promises order per direction only, so a store queued after a load
     * may then run first; the conformance kit turns this on to exercise exactly that. Read once,
     * when the service is created. Production services keep one stream.
     */
    default boolean independentDirections() {
        return false;
    }

    /** No faults: every copy runs at once. */
    CopyFaults NONE = (direction, blockIds) -> {};
}
