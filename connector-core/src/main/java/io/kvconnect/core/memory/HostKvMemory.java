package io.kvconnect.core.memory;

import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A KV cache in off-heap host memory, allocated once, zeroed and 64-byte aligned, from a shared
 * arena so the worker thread and its copy stream thread may both use it.
 *
 * <p>{@link LayoutKind#PER_LAYER}: one segment per layer of {@code [numBlocks][bytesPerBlockPerLayer]}.
 * {@link LayoutKind#CROSS_LAYER}: one segment of {@code [numBlocks][numLayers][bytesPerBlockPerLayer]}.
 * Thread-safe; {@link #close()} frees everything at once.
 */
public final class HostKvMemory implements KvMemory {
    /** Cache-line alignment, so a block or layer region never shares a line with the segment before it. */
    static final long ALIGNMENT = 64;

    private final KvLayout layout;
    private final Arena arena;
    /** PER_LAYER: one segment per layer; CROSS_LAYER: a single segment holding every block. */
    private final MemorySegment[] segments;

    private final AtomicBoolean closed = new AtomicBoolean();

    private HostKvMemory(KvLayout layout, Arena arena, MemorySegment[] segments) {
        this.layout = layout;
        this.arena = arena;
        this.segments = segments;
    }

    /**
     * Allocates the cache of {@code layout}. Called by a worker at start-up.
     *
     * @throws IllegalArgumentException if {@code layout.memory()} is not {@link MemoryKind#HOST} or
     *     the cache does not fit in a {@code long}
     * @throws KvMemoryUnavailableException if the memory cannot be had (the machine's memory ran
     *     out): the message names the cache's size and shape, and nothing stays allocated
     */
    public static HostKvMemory allocate(KvLayout layout) {
        return allocate(layout, Arena::ofShared);
    }

    /**
     * A host copy of a device cache's layout, for the verifying model to work on (see {@link
     * DeviceKvMemory}).
     */
    static HostKvMemory allocateStaging(KvLayout deviceLayout) {
        KvLayout host = new KvLayout(
                deviceLayout.model(),
                deviceLayout.tensorParallelRank(),
                deviceLayout.tensorParallelSize(),
                deviceLayout.numBlocks(),
                deviceLayout.blockSize(),
                deviceLayout.bytesPerBlockPerLayer(),
                deviceLayout.layout(),
                MemoryKind.HOST);
        return allocate(host);
    }

    /**
     * {@link #allocate(KvLayout)} from the arena {@code arenas} supplies (shared: the worker and its
     * copy stream use the memory); tests pass an arena that runs out of memory.
     */
    static HostKvMemory allocate(KvLayout layout, Supplier<Arena> arenas) {
        Objects.requireNonNull(layout, "layout");
        if (layout.memory() != MemoryKind.HOST) {
            throw new IllegalArgumentException("HostKvMemory holds HOST memory, not " + layout.memory());
        }
        boolean perLayer = layout.layout() == LayoutKind.PER_LAYER;
        long segmentBytes;
        try {
            segmentBytes = Math.multiplyExact(
                    layout.numBlocks(), perLayer ? layout.bytesPerBlockPerLayer() : layout.bytesPerBlock());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("KV cache of " + layout + " is too large", e);
        }
        Arena arena = arenas.get();
        MemorySegment[] segments = new MemorySegment[perLayer ? layout.numLayers() : 1];
        try {
            for (int i = 0; i < segments.length; i++) {
                // Arena allocations are zero-initialized, so a fresh cache holds zeros.
                segments[i] = arena.allocate(segmentBytes, ALIGNMENT);
            }
            return new HostKvMemory(layout, arena, segments);
        } catch (OutOfMemoryError e) {
            arena.close(); // don't leak the layers allocated before the failure
            // Said once, with the numbers, instead of a stack trace from deep inside the JDK.
            throw new KvMemoryUnavailableException(
                    "cannot allocate the KV cache of worker "
                            + layout.tensorParallelRank() + " of " + layout.tensorParallelSize() + ": "
                            + ByteSizes.format(ByteSizes.saturatedProduct(segmentBytes, segments.length)) + " ("
                            + layout.numBlocks() + " blocks x " + layout.numLayers() + " layers x "
                            + ByteSizes.format(layout.bytesPerBlockPerLayer())
                            + " per block and layer) is more than the "
                            + "machine could give (" + e.getMessage() + ")",
                    e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    @Override
    public MemorySegment blockLayer(int blockId, int layer) {
        checkBlock(blockId);
        if (layer < 0 || layer >= layout.numLayers()) {
            throw new IndexOutOfBoundsException("layer " + layer + " not in [0, " + layout.numLayers() + ")");
        }
        checkOpen();
        long size = layout.bytesPerBlockPerLayer();
        return switch (layout.layout()) {
            case PER_LAYER -> segments[layer].asSlice(blockId * size, size);
            case CROSS_LAYER -> segments[0].asSlice(((long) blockId * layout.numLayers() + layer) * size, size);
        };
    }

    @Override
    public MemorySegment block(int blockId) {
        if (layout.layout() != LayoutKind.CROSS_LAYER) {
            throw new UnsupportedOperationException(
                    "a " + layout.layout() + " cache has no contiguous block; use blockLayer");
        }
        checkBlock(blockId);
        checkOpen();
        long size = layout.bytesPerBlock();
        return segments[0].asSlice(blockId * size, size);
    }

    @Override
    public MemorySegment blocks(int firstBlock, int count) {
        if (layout.layout() != LayoutKind.CROSS_LAYER) {
            throw new UnsupportedOperationException(
                    "a " + layout.layout() + " cache has no contiguous blocks; use blockLayer");
        }
        if (firstBlock < 0 || count < 0 || firstBlock > layout.numBlocks() - count) {
            throw new IndexOutOfBoundsException("blocks [" + firstBlock + ", " + firstBlock + " + " + count
                    + ") not in [0, " + layout.numBlocks() + ")");
        }
        checkOpen();
        long size = layout.bytesPerBlock();
        return segments[0].asSlice(firstBlock * size, count * size);
    }

    @Override
    public void close() {
        // Arena.close is not idempotent; the flag makes ours so.
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "HostKvMemory[" + layout.layout() + ", " + layout.numBlocks() + " blocks x " + layout.numLayers()
                + " layers x " + layout.bytesPerBlockPerLayer() + " B" + (closed.get() ? ", closed]" : "]");
    }

    private void checkBlock(int blockId) {
        if (blockId < 0 || blockId >= layout.numBlocks()) {
            throw new IndexOutOfBoundsException("block " + blockId + " not in [0, " + layout.numBlocks() + ")");
        }
    }

    private void checkOpen() {
        // FFM would throw IllegalStateException at the first access anyway; failing here names the cause.
        if (closed.get()) {
            throw new IllegalStateException("KV memory is closed");
        }
    }
}
