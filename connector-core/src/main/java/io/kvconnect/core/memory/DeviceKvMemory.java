package io.kvconnect.core.memory;

import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A KV cache in CUDA device memory (one device per worker), with the same per-layer and
 * cross-layer arrangement as {@link HostKvMemory}, a compute stream for the model and a copy
 * stream for the copy service, and events ordering the two.
 *
 * <p><b>The model on the device.</b> The verifying model is host code, so it works on a host
 * staging copy of the cache: {@link #blockLayer}, {@link #block} and {@link #blocks} give staging
 * segments, {@link #beforeLayer} brings the blocks a layer reads from the device into staging and
 * {@link #afterLayer} puts the blocks it wrote back. So the KV the model checks is what the device
 * holds: a wrong copy into or out of the device changes the output exactly as on host memory.
 *
 * <p><b>Fences.</b> The compute stream waits for {@link #copyDone()} (recorded by the copy service
 * after each copy) before it reads or writes a layer, and the copy stream waits for {@link
 * #computeDone()} before each copy: event waits on the device, so a block freed and reallocated
 * is never written by the model while an earlier store still reads it, nor read before an earlier
 * load landed. Not verified on a GPU (none was available); tested with a host fake of the calls.
 *
 * <p><b>Threads.</b> {@link #beforeLayer} and {@link #afterLayer}: the worker thread; the copy
 * stream: the copy service's thread. Close after the copy service.
 */
public final class DeviceKvMemory implements KvMemory {
    private final KvLayout layout;
    private final CudaCalls calls;
    private final CudaCalls.DeviceMemory[] segments;
    private final HostKvMemory staging;
    private final CudaCalls.Stream computeStream;
    private final CudaCalls.Stream copyStream;
    private final CudaCalls.Event computeDone;
    private final CudaCalls.Event copyDone;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DeviceKvMemory(
            KvLayout layout,
            CudaCalls calls,
            CudaCalls.DeviceMemory[] segments,
            HostKvMemory staging,
            CudaCalls.Stream computeStream,
            CudaCalls.Stream copyStream,
            CudaCalls.Event computeDone,
            CudaCalls.Event copyDone) {
        this.layout = layout;
        this.calls = calls;
        this.segments = segments;
        this.staging = staging;
        this.computeStream = computeStream;
        this.copyStream = copyStream;
        this.computeDone = computeDone;
        this.copyDone = copyDone;
    }

    /**
     * Allocates the cache of {@code layout} on the device {@code calls} act on, zeroed, with its
     * streams and events and the model's host staging copy.
     *
     * @throws IllegalArgumentException if {@code layout.memory()} is not {@link MemoryKind#CUDA_DEVICE}
     * @throws KvMemoryUnavailableException if the device memory cannot be had; nothing stays allocated
     */
    static DeviceKvMemory allocate(KvLayout layout, CudaCalls calls) {
        Objects.requireNonNull(calls, "calls");
        if (layout.memory() != MemoryKind.CUDA_DEVICE) {
            throw new IllegalArgumentException("DeviceKvMemory holds CUDA_DEVICE memory, not " + layout.memory());
        }
        boolean perLayer = layout.layout() == LayoutKind.PER_LAYER;
        long segmentBytes = Math.multiplyExact(
                layout.numBlocks(), perLayer ? layout.bytesPerBlockPerLayer() : layout.bytesPerBlock());
        CudaCalls.DeviceMemory[] segments = new CudaCalls.DeviceMemory[perLayer ? layout.numLayers() : 1];
        HostKvMemory staging = null;
        int allocated = 0;
        try {
            for (; allocated < segments.length; allocated++) {
                segments[allocated] = calls.allocate(segmentBytes);
            }
            staging = HostKvMemory.allocateStaging(layout);
            return new DeviceKvMemory(
                    layout,
                    calls,
                    segments,
                    staging,
                    calls.newStream(),
                    calls.newStream(),
                    calls.newEvent(),
                    calls.newEvent());
        } catch (CudaCalls.CudaException e) {
            for (int i = 0; i < allocated; i++) {
                calls.free(segments[i]);
            }
            if (staging != null) {
                staging.close();
            }
            OutOfMemoryError cause = new OutOfMemoryError(e.getMessage());
            cause.initCause(e);
            throw new KvMemoryUnavailableException(
                    "cannot allocate the KV cache of worker " + layout.tensorParallelRank() + " on CUDA device "
                            + calls.device() + ": " + ByteSizes.format(segmentBytes * segments.length) + " ("
                            + e.getMessage() + ")",
                    cause);
        }
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    @Override
    public boolean staged() {
        return true;
    }

    /** {@inheritDoc} The host staging copy the model works on, not device memory. */
    @Override
    public MemorySegment blockLayer(int blockId, int layer) {
        return staging.blockLayer(blockId, layer);
    }

    /** {@inheritDoc} The host staging copy the model works on, not device memory. */
    @Override
    public MemorySegment block(int blockId) {
        return staging.block(blockId);
    }

    /** {@inheritDoc} The host staging copy the model works on, not device memory. */
    @Override
    public MemorySegment blocks(int firstBlock, int count) {
        return staging.blocks(firstBlock, count);
    }

    /**
     * Worker thread, before the model computes {@code layer}: after every copy queued so far, brings
     * layer {@code layer} of {@code blocks} from the device into staging, and waits for it.
     */
    @Override
    public void beforeLayer(int layer, int[] blocks) {
        calls.waitFor(computeStream, copyDone);
        long layerBytes = layout.bytesPerBlockPerLayer();
        for (int block : blocks) {
            calls.copyToHost(
                    staging.blockLayer(block, layer),
                    layerBytes,
                    segment(layer),
                    offset(block, layer),
                    layerBytes,
                    layerBytes,
                    1,
                    computeStream);
        }
        calls.record(computeDone, computeStream);
        calls.synchronize(computeDone); // the model reads staging next: its bytes must be there
    }

    /**
     * Worker thread, after the model computed {@code layer}: puts layer {@code layer} of
     * {@code blocks} back on the device, ordered after every copy queued so far; copies queued
     * later wait for it on the device ({@link #computeDone()}).
     */
    @Override
    public void afterLayer(int layer, int[] blocks) {
        calls.waitFor(computeStream, copyDone);
        long layerBytes = layout.bytesPerBlockPerLayer();
        for (int block : blocks) {
            calls.copyToDevice(
                    segment(layer),
                    offset(block, layer),
                    layerBytes,
                    staging.blockLayer(block, layer),
                    layerBytes,
                    layerBytes,
                    1,
                    computeStream);
        }
        calls.record(computeDone, computeStream);
        // The staging bytes must stay as they are until the copy ran: the next beforeLayer waits for it.
    }

    /** The device the cache is on. */
    public int device() {
        return calls.device();
    }

    CudaCalls calls() {
        return calls;
    }

    CudaCalls.Stream copyStream() {
        return copyStream;
    }

    /** Recorded on the compute stream after each layer's staging copies. */
    CudaCalls.Event computeDone() {
        return computeDone;
    }

    /** Recorded on the copy stream by the copy service after each copy. */
    CudaCalls.Event copyDone() {
        return copyDone;
    }

    /** The device allocation holding {@code layer} (per-layer) or every block (cross-layer). */
    CudaCalls.DeviceMemory segment(int layer) {
        return segments[layout.layout() == LayoutKind.PER_LAYER ? layer : 0];
    }

    /** Where block {@code block}'s layer {@code layer} starts in {@link #segment(int)}. */
    long offset(int block, int layer) {
        long size = layout.bytesPerBlockPerLayer();
        return layout.layout() == LayoutKind.PER_LAYER
                ? block * size
                : ((long) block * layout.numLayers() + layer) * size;
    }

    /** Frees the device memory, streams and events once the queued work is done. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        calls.record(computeDone, computeStream);
        calls.synchronize(computeDone);
        calls.record(copyDone, copyStream);
        calls.synchronize(copyDone);
        for (CudaCalls.DeviceMemory segment : segments) {
            calls.free(segment);
        }
        calls.destroy(computeDone);
        calls.destroy(copyDone);
        calls.destroy(computeStream);
        calls.destroy(copyStream);
        staging.close();
    }

    @Override
    public String toString() {
        return "DeviceKvMemory[CUDA device " + calls.device() + ", " + layout.layout() + ", " + layout.numBlocks()
                + " blocks x " + layout.numLayers() + " layers x " + layout.bytesPerBlockPerLayer() + " B"
                + (closed.get() ? ", closed]" : "]");
    }
}
