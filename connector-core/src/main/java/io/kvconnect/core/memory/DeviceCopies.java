package io.kvconnect.core.memory;

import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import java.lang.foreign.MemorySegment;

/**
 * The copies of an {@link EngineBlockCopyService} over {@link DeviceKvMemory}: on the memory's copy
 * stream, after the model's last staging copies ({@code computeDone}), one asynchronous copy per
 * run of adjacent blocks (cross-layer) or per run and layer (per-layer, a strided 2D copy), then
 * {@code copyDone} recorded for the compute stream to wait for. The copy service's stream thread
 * waits for that event before completing the ticket, so a ticket seen done means the bytes moved;
 * the caller never waits.
 */
final class DeviceCopies {
    private DeviceCopies() {}

    /** The copy service's stream thread. Throws {@link CudaCalls.CudaException} if a call fails. */
    static void copy(DeviceKvMemory memory, boolean toHost, CopyPlan plan, EngineHostBuffer buffer) {
        CudaCalls calls = memory.calls();
        CudaCalls.Stream stream = memory.copyStream();
        KvLayout layout = memory.layout();
        long blockBytes = layout.bytesPerBlock();
        long layerBytes = layout.bytesPerBlockPerLayer();
        calls.waitFor(stream, memory.computeDone());
        for (int r = 0; r < plan.runs(); r++) {
            int first = plan.firstBlocks()[r];
            int length = plan.lengths()[r];
            MemorySegment slots = buffer.slots(plan.firstSlots()[r], length);
            if (layout.layout() == LayoutKind.CROSS_LAYER) {
                // Blocks are layer-major and contiguous on both sides: one plain copy.
                long bytes = length * blockBytes;
                long offset = memory.offset(first, 0);
                if (toHost) {
                    calls.copyToHost(slots, bytes, memory.segment(0), offset, bytes, bytes, 1, stream);
                } else {
                    calls.copyToDevice(memory.segment(0), offset, bytes, slots, bytes, bytes, 1, stream);
                }
            } else {
                // Per layer, a run is contiguous on the device and strided by the slot in the buffer.
                for (int layer = 0; layer < layout.numLayers(); layer++) {
                    MemorySegment host = slots.asSlice(layer * layerBytes);
                    long offset = memory.offset(first, layer);
                    if (toHost) {
                        calls.copyToHost(
                                host,
                                blockBytes,
                                memory.segment(layer),
                                offset,
                                layerBytes,
                                layerBytes,
                                length,
                                stream);
                    } else {
                        calls.copyToDevice(
                                memory.segment(layer),
                                offset,
                                layerBytes,
                                host,
                                blockBytes,
                                layerBytes,
                                length,
                                stream);
                    }
                }
            }
        }
        calls.record(memory.copyDone(), stream);
        calls.synchronize(memory.copyDone());
    }
}
