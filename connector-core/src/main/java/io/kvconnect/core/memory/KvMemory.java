package io.kvconnect.core.memory;

import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import java.lang.foreign.MemorySegment;

/**
 * One worker's KV cache: {@link KvLayout#numBlocks()} blocks (block 0 is the null block) of
 * {@link KvLayout#numLayers()} layers each, arranged as {@link KvLayout#layout()} says.
 *
 * <p>Owned by the worker that allocated it; the worker's model writes blocks through
 * {@link #blockLayer}, and the worker's {@link EngineBlockCopyService} reads and writes them on
 * its copy stream thread. Segments may be used from any thread, but the engine must not write a
 * block while a copy that uses it is in flight (the copy then moves undefined content). Close it
 * only after every copy service over it is closed.
 */
public interface KvMemory extends AutoCloseable {
    /** The layout this memory was allocated for. Never blocks; valid after {@link #close()}. */
    KvLayout layout();

    /**
     * The region holding block {@code blockId}'s KV for layer {@code layer}: exactly
     * {@link KvLayout#bytesPerBlockPerLayer()} bytes, token-major (token {@code t} of the block
     * starts at {@code t * bytesPerBlockPerLayer / blockSize}). The segment is a view: writes go
     * straight to the cache. It stops being usable when this memory is closed.
     *
     * @throws IndexOutOfBoundsException if {@code blockId} is not in {@code [0, numBlocks)} or
     *     {@code layer} not in {@code [0, numLayers)}
     * @throws IllegalStateException if this memory is closed
     */
    MemorySegment blockLayer(int blockId, int layer);

    /**
     * The whole of block {@code blockId}, all layers contiguous and layer-major (layer {@code l}
     * at {@code l * bytesPerBlockPerLayer}): {@link KvLayout#bytesPerBlock()} bytes, the canonical
     * form of a host-buffer slot, so a block moves in one copy.
     *
     * @throws UnsupportedOperationException unless the layout is {@link LayoutKind#CROSS_LAYER}
     * @throws IndexOutOfBoundsException if {@code blockId} is not in {@code [0, numBlocks)}
     * @throws IllegalStateException if this memory is closed
     */
    MemorySegment block(int blockId);

    /**
     * Blocks {@code [firstBlock, firstBlock + count)} as one segment, each as {@link #block} gives
     * it, so a run of adjacent blocks moves in one copy.
     *
     * @throws UnsupportedOperationException unless the layout is {@link LayoutKind#CROSS_LAYER}
     * @throws IndexOutOfBoundsException if the range is not within {@code [0, numBlocks)}
     * @throws IllegalStateException if this memory is closed
     */
    MemorySegment blocks(int firstBlock, int count);

    /**
     * Whether the model works on a staging copy of this memory, so the worker must call {@link
     * #beforeLayer} and {@link #afterLayer} around each layer. False for host memory.
     */
    default boolean staged() {
        return false;
    }

    /**
     * Called by the worker thread before the model computes layer {@code layer} of a step, naming
     * every block the layer reads: memory the model cannot read in place (device memory) brings
     * them to where {@link #blockLayer} points. Host memory does nothing.
     */
    default void beforeLayer(int layer, int[] blocks) {}

    /**
     * Called by the worker thread after the model computed layer {@code layer}, naming every block
     * it wrote in that layer: memory the model cannot write in place puts them back. Host memory
     * does nothing.
     */
    default void afterLayer(int layer, int[] blocks) {}

    /**
     * Frees the memory; every segment handed out becomes unusable (access throws
     * {@link IllegalStateException}). Idempotent. Called by the owning worker at shutdown, after
     * its copy services are closed.
     */
    @Override
    void close();
}
