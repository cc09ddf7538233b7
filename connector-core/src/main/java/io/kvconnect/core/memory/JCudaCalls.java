package io.kvconnect.core.memory;

import java.lang.foreign.MemorySegment;
import jcuda.Pointer;
import jcuda.runtime.JCuda;
import jcuda.runtime.cudaError;
import jcuda.runtime.cudaEvent_t;
import jcuda.runtime.cudaMemcpyKind;
import jcuda.runtime.cudaStream_t;

/**
 * {@link CudaCalls} through JCuda's runtime binding. The only class of the engine that touches
 * JCuda: JCuda's JNI library links the CUDA runtime statically and needs only the driver
 * ({@code libcuda.so.1}) at run time. Error codes are checked here and turned into {@link
 * CudaException}s naming the call; JCuda's own exceptions stay off.
 *
 * <p>Not verified on a GPU: no device was available where it was written; the logic above it is
 * tested with a host fake, this class only by {@code CudaDeviceTest} where a device is present.
 */
final class JCudaCalls implements CudaCalls {
    private final int device;

    private JCudaCalls(int device) {
        this.device = device;
    }

    /**
     * Whether CUDA is usable here, and why not: JCuda's JNI library could not be loaded, the driver
     * is missing or too old, or there is no device. Never throws.
     */
    static CudaAvailability probe() {
        int[] count = new int[1];
        int rc;
        try {
            rc = JCuda.cudaGetDeviceCount(count);
        } catch (LinkageError | RuntimeException e) {
            // UnsatisfiedLinkError (no JNI library for this platform on java.library.path or the class
            // path), NoClassDefFoundError (JCuda's jar absent, or its class initialization failed),
            // IllegalCallerException (native access denied to module jcuda).
            return CudaAvailability.unavailable(CudaAvailability.Reason.JCUDA_NOT_LOADED, String.valueOf(e));
        }
        if (rc == cudaError.cudaErrorInsufficientDriver || rc == cudaError.cudaErrorStubLibrary) {
            return CudaAvailability.unavailable(
                    CudaAvailability.Reason.NO_DRIVER, "libcuda.so.1 missing or too old (" + error(rc) + ")");
        }
        if (rc == cudaError.cudaErrorNoDevice || (rc == cudaError.cudaSuccess && count[0] == 0)) {
            return CudaAvailability.unavailable(CudaAvailability.Reason.NO_DEVICE, error(rc));
        }
        if (rc != cudaError.cudaSuccess) {
            return CudaAvailability.unavailable(CudaAvailability.Reason.NO_DRIVER, error(rc));
        }
        return CudaAvailability.available(count[0]);
    }

    /** The calls for device {@code device}; {@link #probe()} said CUDA is usable. */
    static JCudaCalls forDevice(int device) {
        return new JCudaCalls(device);
    }

    @Override
    public int device() {
        return device;
    }

    @Override
    public DeviceMemory allocate(long bytes) {
        current();
        Pointer p = new Pointer();
        check(JCuda.cudaMalloc(p, bytes), "cudaMalloc of " + bytes + " B");
        check(JCuda.cudaMemset(p, 0, bytes), "cudaMemset");
        return new Device(p, bytes);
    }

    @Override
    public void free(DeviceMemory memory) {
        current();
        check(JCuda.cudaFree(((Device) memory).pointer), "cudaFree");
    }

    @Override
    public PinnedMemory allocatePinned(long bytes) {
        current();
        Pointer p = new Pointer();
        check(JCuda.cudaHostAlloc(p, bytes, JCuda.cudaHostAllocDefault), "cudaHostAlloc of " + bytes + " B");
        MemorySegment segment = MemorySegment.ofBuffer(p.getByteBuffer(0, bytes));
        segment.fill((byte) 0);
        // The driver locks whole pages: what the buffer costs in page-locked memory.
        long pages = (bytes + PAGE - 1) / PAGE * PAGE;
        return new PinnedMemory(segment, pages, p);
    }

    @Override
    public void freePinned(PinnedMemory memory) {
        current();
        check(JCuda.cudaFreeHost((Pointer) memory.handle()), "cudaFreeHost");
    }

    @Override
    public Stream newStream() {
        current();
        cudaStream_t s = new cudaStream_t();
        check(JCuda.cudaStreamCreateWithFlags(s, JCuda.cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        return new StreamHandle(s);
    }

    @Override
    public void destroy(Stream stream) {
        current();
        check(JCuda.cudaStreamDestroy(((StreamHandle) stream).stream), "cudaStreamDestroy");
    }

    @Override
    public Event newEvent() {
        current();
        cudaEvent_t e = new cudaEvent_t();
        check(JCuda.cudaEventCreateWithFlags(e, JCuda.cudaEventDisableTiming), "cudaEventCreateWithFlags");
        return new EventHandle(e);
    }

    @Override
    public void destroy(Event event) {
        current();
        check(JCuda.cudaEventDestroy(((EventHandle) event).event), "cudaEventDestroy");
    }

    @Override
    public void copyToHost(
            MemorySegment dst,
            long dstPitch,
            DeviceMemory src,
            long srcOffset,
            long srcPitch,
            long rowBytes,
            long rows,
            Stream stream) {
        current();
        check(
                JCuda.cudaMemcpy2DAsync(
                        Pointer.to(dst.asByteBuffer()),
                        dstPitch,
                        ((Device) src).pointer.withByteOffset(srcOffset),
                        srcPitch,
                        rowBytes,
                        rows,
                        cudaMemcpyKind.cudaMemcpyDeviceToHost,
                        ((StreamHandle) stream).stream),
                "cudaMemcpy2DAsync device to host");
    }

    @Override
    public void copyToDevice(
            DeviceMemory dst,
            long dstOffset,
            long dstPitch,
            MemorySegment src,
            long srcPitch,
            long rowBytes,
            long rows,
            Stream stream) {
        current();
        check(
                JCuda.cudaMemcpy2DAsync(
                        ((Device) dst).pointer.withByteOffset(dstOffset),
                        dstPitch,
                        Pointer.to(src.asByteBuffer()),
                        srcPitch,
                        rowBytes,
                        rows,
                        cudaMemcpyKind.cudaMemcpyHostToDevice,
                        ((StreamHandle) stream).stream),
                "cudaMemcpy2DAsync host to device");
    }

    @Override
    public void record(Event event, Stream stream) {
        current();
        check(JCuda.cudaEventRecord(((EventHandle) event).event, ((StreamHandle) stream).stream), "cudaEventRecord");
    }

    @Override
    public void waitFor(Stream stream, Event event) {
        current();
        check(
                JCuda.cudaStreamWaitEvent(((StreamHandle) stream).stream, ((EventHandle) event).event, 0),
                "cudaStreamWaitEvent");
    }

    @Override
    public void synchronize(Event event) {
        check(JCuda.cudaEventSynchronize(((EventHandle) event).event), "cudaEventSynchronize");
    }

    private static final long PAGE = 4096;

    /** Makes the device current on this thread: CUDA's current device is per host thread. */
    private void current() {
        check(JCuda.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    }

    private static void check(int rc, String call) {
        if (rc != cudaError.cudaSuccess) {
            throw new CudaException(call + " failed: " + error(rc));
        }
    }

    private static String error(int rc) {
        return cudaError.stringFor(rc) + ": " + JCuda.cudaGetErrorString(rc);
    }

    private record Device(Pointer pointer, long bytes) implements DeviceMemory {}

    private record StreamHandle(cudaStream_t stream) implements Stream {}

    private record EventHandle(cudaEvent_t event) implements Event {}
}
