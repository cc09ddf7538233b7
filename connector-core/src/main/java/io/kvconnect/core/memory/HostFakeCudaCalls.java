package io.kvconnect.core.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link CudaCalls} on the host, for tests of everything above the native calls (core's tests, and
 * engines the connector test kit builds through {@link CudaSource#hostFake}): device memory is
 * off-heap memory, a stream is a thread running its operations in order, an event a future completed
 * when its stream reaches it. Counts the copy calls and what is still allocated. Never chosen by an
 * engine configuration.
 */
final class HostFakeCudaCalls implements CudaCalls {
    private final int device;
    private final List<ExecutorService> streams = new ArrayList<>();
    final AtomicLong copyCalls = new AtomicLong();
    final AtomicInteger liveAllocations = new AtomicInteger();
    final AtomicInteger livePinned = new AtomicInteger();

    /** The calls of device 0. */
    HostFakeCudaCalls() {
        this(0);
    }

    /** The calls of device {@code device}. */
    HostFakeCudaCalls(int device) {
        this.device = device;
    }

    /** Each allocation has an arena of its own, closed when it is freed. */
    private record FakeMemory(MemorySegment segment, long bytes, Arena arena) implements DeviceMemory {}

    private record FakeStream(ExecutorService executor) implements Stream {}

    private static final class FakeEvent implements Event {
        volatile CompletableFuture<Void> last = CompletableFuture.completedFuture(null);
    }

    @Override
    public int device() {
        return device;
    }

    @Override
    public DeviceMemory allocate(long bytes) {
        Arena arena = Arena.ofShared();
        liveAllocations.incrementAndGet();
        return new FakeMemory(arena.allocate(bytes, 64), bytes, arena);
    }

    @Override
    public void free(DeviceMemory memory) {
        liveAllocations.decrementAndGet();
        ((FakeMemory) memory).arena().close();
    }

    @Override
    public PinnedMemory allocatePinned(long bytes) {
        livePinned.incrementAndGet();
        long pages = (bytes + 4095) / 4096 * 4096;
        Arena arena = Arena.ofShared();
        return new PinnedMemory(arena.allocate(pages, 4096), pages, arena);
    }

    @Override
    public void freePinned(PinnedMemory memory) {
        livePinned.decrementAndGet();
        ((Arena) memory.handle()).close();
    }

    @Override
    public synchronized Stream newStream() {
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fake-cuda-stream");
            t.setDaemon(true);
            return t;
        });
        streams.add(executor);
        return new FakeStream(executor);
    }

    @Override
    public void destroy(Stream stream) {
        ((FakeStream) stream).executor().shutdown();
    }

    @Override
    public Event newEvent() {
        return new FakeEvent();
    }

    @Override
    public void destroy(Event event) {}

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
        copyCalls.incrementAndGet();
        MemorySegment device = ((FakeMemory) src).segment();
        run(stream, () -> {
            for (long r = 0; r < rows; r++) {
                MemorySegment.copy(device, srcOffset + r * srcPitch, dst, r * dstPitch, rowBytes);
            }
        });
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
        copyCalls.incrementAndGet();
        MemorySegment device = ((FakeMemory) dst).segment();
        run(stream, () -> {
            for (long r = 0; r < rows; r++) {
                MemorySegment.copy(src, r * srcPitch, device, dstOffset + r * dstPitch, rowBytes);
            }
        });
    }

    @Override
    public void record(Event event, Stream stream) {
        CompletableFuture<Void> reached = new CompletableFuture<>();
        ((FakeEvent) event).last = reached;
        run(stream, () -> reached.complete(null));
    }

    @Override
    public void waitFor(Stream stream, Event event) {
        CompletableFuture<Void> awaited = ((FakeEvent) event).last;
        run(stream, awaited::join);
    }

    @Override
    public void synchronize(Event event) {
        ((FakeEvent) event).last.join();
    }

    /** Device memory as the fake holds it, for assertions. */
    static MemorySegment contents(DeviceMemory memory) {
        return ((FakeMemory) memory).segment();
    }

    private static void run(Stream stream, Runnable op) {
        ((FakeStream) stream).executor().execute(op);
    }
}
