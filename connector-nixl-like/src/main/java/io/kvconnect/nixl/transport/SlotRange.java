package io.kvconnect.nixl.transport;

import io.kvconnect.api.worker.HostBlockBuffer;
import java.lang.foreign.MemorySegment;

/**
 * Slots {@code from .. from + slots - 1} of another buffer as a buffer of their own, so a piece of
 * a read can be copied by a {@link BlockSource#read} that fills slots from 0. Closing it does
 * nothing: the buffer it views stays its owner's. Used by the connection thread that made it.
 */
final class SlotRange implements HostBlockBuffer {
    private final HostBlockBuffer buffer;
    private final int from;
    private final int slots;

    SlotRange(HostBlockBuffer buffer, int from, int slots) {
        if (from < 0 || slots <= 0 || from > buffer.numSlots() - slots) {
            throw new IllegalArgumentException(
                    "slots " + from + " to " + (from + slots - 1) + " of a buffer of " + buffer.numSlots());
        }
        this.buffer = buffer;
        this.from = from;
        this.slots = slots;
    }

    @Override
    public int numSlots() {
        return slots;
    }

    @Override
    public long slotBytes() {
        return buffer.slotBytes();
    }

    @Override
    public MemorySegment slot(int slot) {
        if (slot < 0 || slot >= slots) {
            throw new IndexOutOfBoundsException("slot " + slot + " of " + slots);
        }
        return buffer.slot(from + slot);
    }

    @Override
    public void close() {
        // The viewed buffer is its owner's to close.
    }
}
