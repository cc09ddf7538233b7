package io.kvconnect.core.memory;

import io.kvconnect.api.worker.HostBlockBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A host buffer of an {@link EngineBlockCopyService}: {@code numSlots} canonical blocks in one
 * off-heap segment of its own shared arena (shared: the connector fills it, the copy stream reads
 * it). Slot {@code s} starts at {@code s * slotBytes}; inside a slot, layer {@code l} starts at
 * {@code l * bytesPerBlockPerLayer}.
 *
 * <p>A copy {@linkplain #use() uses} the buffer while it moves bytes, and closing the buffer then
 * only marks it closed: its memory is freed (and its bytes given back to the budget) when the last
 * such copy ends. A connector may close a buffer from any thread at any time, and a device copy
 * must never be left reading or writing pinned memory that was freed under it.
 */
final class EngineHostBuffer implements HostBlockBuffer {
    private final EngineBlockCopyService owner;
    private final Runnable free;
    private final MemorySegment memory;
    private final long allocatedBytes;
    private final int numSlots;
    private final long slotBytes;
    private final Consumer<EngineHostBuffer> onClose;
    /**
     * {@link #CLOSED} once closed, plus {@link #USE} per copy using the memory: freed when it is
     * {@code CLOSED} alone. One word, so that "closed" and "in use" change together.
     */
    private final AtomicInteger state = new AtomicInteger();

    private static final int CLOSED = 1;
    private static final int USE = 2;

    private EngineHostBuffer(
            EngineBlockCopyService owner,
            Allocation allocation,
            int numSlots,
            long slotBytes,
            Consumer<EngineHostBuffer> onClose) {
        this.owner = owner;
        this.free = allocation.free();
        this.memory = allocation.segment();
        this.allocatedBytes = allocation.allocatedBytes();
        this.numSlots = numSlots;
        this.slotBytes = slotBytes;
        this.onClose = onClose;
    }

    /**
     * Memory of a buffer: its segment, what it costs (page-locked memory is locked in whole
     * pages), and how to free it.
     */
    record Allocation(MemorySegment segment, long allocatedBytes, Runnable free) {}

    /** Where a buffer's memory comes from: ordinary off-heap memory, or pinned memory for a device. */
    @FunctionalInterface
    interface Allocator {
        /** Zeroed memory of exactly {@code bytes} usable bytes. @throws OutOfMemoryError if none */
        Allocation allocate(long bytes);
    }

    /** Off-heap host memory from a shared arena of its own, 64-byte aligned. */
    static final Allocator OFF_HEAP = bytes -> {
        Arena arena = Arena.ofShared();
        try {
            return new Allocation(arena.allocate(bytes, HostKvMemory.ALIGNMENT), bytes, arena::close);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    };

    /**
     * Allocates {@code numSlots} zeroed slots of {@code slotBytes} from {@code allocator}; {@code
     * onClose} runs once, on the first {@link #close()}.
     *
     * @throws OutOfMemoryError if the memory cannot be had (or its size does not fit in a long)
     */
    static EngineHostBuffer allocate(
            EngineBlockCopyService owner,
            int numSlots,
            long slotBytes,
            Allocator allocator,
            Consumer<EngineHostBuffer> onClose) {
        long bytes;
        try {
            bytes = Math.multiplyExact(numSlots, slotBytes);
        } catch (ArithmeticException e) {
            throw new OutOfMemoryError(numSlots + " slots of " + slotBytes + " B do not fit in a long");
        }
        try {
            return new EngineHostBuffer(owner, allocator.allocate(bytes), numSlots, slotBytes, onClose);
        } catch (OutOfMemoryError e) {
            OutOfMemoryError named = new OutOfMemoryError("host buffer of " + numSlots + " slot(s) x "
                    + ByteSizes.format(slotBytes) + " = " + ByteSizes.format(bytes) + " could not be allocated: "
                    + e.getMessage());
            named.initCause(e);
            throw named;
        }
    }

    /** Whether {@code service} allocated this buffer. */
    boolean ownedBy(EngineBlockCopyService service) {
        return owner == service;
    }

    boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /**
     * The thread that runs a copy, before it moves bytes: keeps the memory until {@link #unuse()},
     * even if the buffer is closed meanwhile.
     *
     * @return false, taking nothing, if the buffer is closed already
     */
    boolean use() {
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s + USE)) {
                return true;
            }
        }
    }

    /** The thread that ends a copy that {@link #use() used} the buffer: frees it if it was closed meanwhile. */
    void unuse() {
        if (state.addAndGet(-USE) == CLOSED) {
            free();
        }
    }

    /** What the buffer's memory costs: its size, rounded up to whole pages when page-locked. */
    long allocatedBytes() {
        return allocatedBytes;
    }

    @Override
    public int numSlots() {
        return numSlots;
    }

    @Override
    public long slotBytes() {
        return slotBytes;
    }

    /**
     * @throws IndexOutOfBoundsException if {@code slot} is not in {@code [0, numSlots)}
     * @throws IllegalStateException if the buffer is closed
     */
    @Override
    public MemorySegment slot(int slot) {
        if (slot < 0 || slot >= numSlots) {
            throw new IndexOutOfBoundsException("slot " + slot + " not in [0, " + numSlots + ")");
        }
        if (isClosed()) {
            throw new IllegalStateException("host buffer is closed");
        }
        return memory.asSlice(slot * slotBytes, slotBytes);
    }

    /**
     * Slots {@code [first, first + count)} as one segment, for a copy of adjacent slots; by a copy
     * that {@linkplain #use() uses} the buffer, which may have been closed since (its memory is kept).
     *
     * @throws IndexOutOfBoundsException if the range is not within the buffer
     * @throws IllegalStateException if the buffer is closed and no copy uses it
     */
    MemorySegment slots(int first, int count) {
        if (first < 0 || count < 0 || first > numSlots - count) {
            throw new IndexOutOfBoundsException(
                    "slots [" + first + ", " + first + " + " + count + ") not in [0, " + numSlots + ")");
        }
        if (state.get() == CLOSED) {
            throw new IllegalStateException("host buffer is closed");
        }
        return memory.asSlice(first * slotBytes, count * slotBytes);
    }

    @Override
    public void close() {
        release();
    }

    /**
     * Closes the buffer, freeing it now or, if a copy uses it, when that copy ends; returns whether
     * this call closed it (false if it was closed already).
     */
    boolean release() {
        // Arena.close is not idempotent, and the connector and the service's close may race here.
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s | CLOSED)) {
                if (s == 0) {
                    free();
                }
                return true;
            }
        }
    }

    /** Once, by whichever of {@link #release()} and {@link #unuse()} left the buffer closed and unused. */
    private void free() {
        try {
            free.run();
        } finally {
            onClose.accept(this);
        }
    }

    @Override
    public String toString() {
        return "HostBlockBuffer[" + numSlots + " slots x " + slotBytes + " B" + (isClosed() ? ", closed]" : "]");
    }
}
