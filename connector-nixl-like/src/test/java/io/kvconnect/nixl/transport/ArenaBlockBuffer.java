package io.kvconnect.nixl.transport;

import io.kvconnect.api.worker.HostBlockBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A host block buffer whose slots lie in a shared arena of native memory, for tests without an
 * engine: staging and destination buffers of the transport tests, and of the connector tests that
 * play a reader of their own. Closing it frees the memory; idempotent.
 */
public final class ArenaBlockBuffer implements HostBlockBuffer {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;
    private final int slots;
    private final long slotBytes;

    /** {@code slots} slots of {@code slotBytes} bytes each, contiguous, zeroed. */
    public ArenaBlockBuffer(int slots, long slotBytes) {
        this.slots = slots;
        this.slotBytes = slotBytes;
        this.memory = arena.allocate(slots * slotBytes);
    }

    @Override
    public int numSlots() {
        return slots;
    }

    @Override
    public long slotBytes() {
        return slotBytes;
    }

    @Override
    public MemorySegment slot(int slot) {
        return memory.asSlice(slot * slotBytes, slotBytes);
    }

    /** Whether the memory is still allocated. */
    public boolean isOpen() {
        return arena.scope().isAlive();
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
