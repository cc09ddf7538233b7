package io.kvconnect.core.memory;

import java.lang.foreign.MemorySegment;

/**
 * The CUDA runtime calls the device path makes, and nothing more: device and pinned host memory,
 * streams, events and asynchronous copies. {@link JCudaCalls} makes them through JCuda; tests pass
 * a host fake, so the logic above the calls (layouts, coalescing, fences, selection, budgets) runs
 * on machines without a GPU.
 *
 * <p><b>Threads.</b> Callable from any thread. Each call acts on the device {@link #device()}
 * names (the implementation makes it current on the calling thread first). Asynchronous copies
 * return once queued on their stream; the bytes are moved when an event recorded after them
 * completes. A host segment passed to an asynchronous copy must stay open until then.
 */
interface CudaCalls {
    /** An allocation of device memory: an opaque handle and its size. */
    interface DeviceMemory {
        /** {@return the size in bytes} */
        long bytes();
    }

    /** A stream: copies queued on one stream run in order. */
    interface Stream {}

    /** An event recorded on a stream: done once everything queued before it on that stream is. */
    interface Event {}

    /** Page-locked host memory: {@code segment} is usable from Java, {@code allocatedBytes} what it costs. */
    record PinnedMemory(MemorySegment segment, long allocatedBytes, Object handle) {}

    /** {@return the device ordinal the calls act on} */
    int device();

    /** Allocates {@code bytes} of device memory, zeroed. @throws CudaException if it cannot */
    DeviceMemory allocate(long bytes);

    /** Frees device memory; the caller made sure no queued copy uses it. */
    void free(DeviceMemory memory);

    /** Allocates {@code bytes} of page-locked host memory, zeroed. @throws CudaException if it cannot */
    PinnedMemory allocatePinned(long bytes);

    /** Frees pinned memory; the caller made sure no queued copy uses it. */
    void freePinned(PinnedMemory memory);

    /** A new stream. */
    Stream newStream();

    /** Destroys {@code stream} once its queued work is done. */
    void destroy(Stream stream);

    /** A new event, without timing. */
    Event newEvent();

    /** Destroys {@code event}. */
    void destroy(Event event);

    /**
     * Queues on {@code stream} a strided copy device to host: {@code rows} rows of {@code rowBytes},
     * row {@code r} from {@code src + srcOffset + r * srcPitch} to {@code dst + r * dstPitch}
     * ({@code cudaMemcpy2DAsync}; one row is a plain copy).
     */
    void copyToHost(
            MemorySegment dst,
            long dstPitch,
            DeviceMemory src,
            long srcOffset,
            long srcPitch,
            long rowBytes,
            long rows,
            Stream stream);

    /** The reverse of {@link #copyToHost}: host rows to device rows. */
    void copyToDevice(
            DeviceMemory dst,
            long dstOffset,
            long dstPitch,
            MemorySegment src,
            long srcPitch,
            long rowBytes,
            long rows,
            Stream stream);

    /** Records {@code event} after what is queued on {@code stream} so far. */
    void record(Event event, Stream stream);

    /** Makes work queued on {@code stream} from now on wait for {@code event}, without the host waiting. */
    void waitFor(Stream stream, Event event);

    /** Blocks the calling thread until {@code event} is done. */
    void synchronize(Event event);

    /** A failed CUDA call: names the call and CUDA's error. */
    final class CudaException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CudaException(String message) {
            super(message);
        }
    }
}
