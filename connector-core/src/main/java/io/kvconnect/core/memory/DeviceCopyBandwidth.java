package io.kvconnect.core.memory;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * Bandwidth of the engine's block-copy service on CUDA device memory against plain pinned
 * {@code cudaMemcpyAsync} calls of the same bytes, measured in the same run on the same device:
 * the data of the benchmarks module's {@code CudaCopyBandwidth} report.
 *
 * <p>One case moves {@code batch} blocks of {@code blockKiB} per operation: device to host, host
 * to device, or both at once (two operations, on disjoint blocks, submitted together). The
 * service path allocates a {@link DeviceKvMemory} and a pinned buffer through an {@link
 * EngineBlockCopyService} and awaits its tickets; the plain path queues one copy per block on a
 * stream of its own per direction (two streams when both ways run at once, so the hardware may
 * overlap them), records an event and synchronizes. Both walk through a working set of blocks so
 * that successive operations touch different memory. Timing is wall time over whole operations.
 *
 * <p>Called from one thread; not verified on a GPU where it was written (the host fake of the
 * CUDA calls runs it in tests, which check what it counts, not how fast it is).
 */
public final class DeviceCopyBandwidth {
    /** Layers of the benchmark model: a per-layer block is that many strided copies. */
    static final int LAYERS = 16;

    private static final int BLOCK_TOKENS = 16;

    /** Which way a case copies. */
    public enum Way {
        /** Device to host (a store). */
        TO_HOST,
        /** Host to device (a load). */
        FROM_HOST,
        /** Both at once, on disjoint blocks. */
        BOTH
    }

    /**
     * One measured case.
     *
     * @param serviceGBps bytes per second of the copy service, in GB/s (both directions together for BOTH)
     * @param plainGBps the same for the plain copies
     * @param serviceCallsPerOp copy calls the service made per operation (after coalescing)
     * @param serviceMicrosPerBlock wall microseconds per block through the service
     */
    public record Result(
            int blockKiB,
            int batch,
            LayoutKind layout,
            Way way,
            double serviceGBps,
            double plainGBps,
            double serviceCallsPerOp,
            double serviceMicrosPerBlock) {
        /** {@return service over plain} */
        public double ratio() {
            return serviceGBps / plainGBps;
        }
    }

    /**
     * What to measure.
     *
     * @param workingSetMiB the least memory each side walks through per direction
     * @param operations timed operations per case and path, at least one per batch of the working
     *     set (after as many untimed ones)
     */
    public record Plan(
            List<Integer> blockKiBs,
            List<Integer> batches,
            List<LayoutKind> layouts,
            List<Way> ways,
            int workingSetMiB,
            int operations) {
        /** Checks the sizes. */
        public Plan {
            blockKiBs = List.copyOf(blockKiBs);
            batches = List.copyOf(batches);
            layouts = List.copyOf(layouts);
            ways = List.copyOf(ways);
            for (int kib : blockKiBs) {
                if (kib < 16 || kib % 16 != 0) {
                    throw new IllegalArgumentException("block KiB must be a multiple of 16, at least 16: " + kib);
                }
            }
            for (int batch : batches) {
                if (batch <= 0) {
                    throw new IllegalArgumentException("batch must be positive: " + batch);
                }
            }
            if (workingSetMiB <= 0 || operations <= 0) {
                throw new IllegalArgumentException("working set and operations must be positive");
            }
        }

        /** Blocks of 16 KiB to 4 MiB, batches of 1 to 128, both layouts, every way; 256 MiB, 50 operations. */
        public static Plan standard() {
            return new Plan(
                    List.of(16, 256, 1024, 4096),
                    List.of(1, 16, 128),
                    List.of(LayoutKind.CROSS_LAYER, LayoutKind.PER_LAYER),
                    List.of(Way.values()),
                    256,
                    50);
        }
    }

    private DeviceCopyBandwidth() {}

    /** Measures {@code plan} on CUDA device {@code device}; the caller checked {@link CudaAvailability#probe()}. */
    public static List<Result> measure(int device, Plan plan) throws InterruptedException, CopyFailedException {
        return measure(plan, d -> JCudaCalls.forDevice(device));
    }

    /** {@link #measure(int, Plan)} with the calls {@code calls} gives; tests pass a host fake. */
    static List<Result> measure(Plan plan, IntFunction<CudaCalls> calls)
            throws InterruptedException, CopyFailedException {
        Objects.requireNonNull(plan, "plan");
        List<Result> results = new ArrayList<>();
        CudaCalls cuda = calls.apply(0);
        for (LayoutKind layout : plan.layouts()) {
            for (int kib : plan.blockKiBs()) {
                for (int batch : plan.batches()) {
                    for (Way way : plan.ways()) {
                        results.add(measureCase(cuda, plan, layout, kib, batch, way));
                    }
                }
            }
        }
        return results;
    }

    private static Result measureCase(CudaCalls cuda, Plan plan, LayoutKind layout, int kib, int batch, Way way)
            throws InterruptedException, CopyFailedException {
        long blockBytes = kib * 1024L;
        long minBlocks = Math.max(batch, ((long) plan.workingSetMiB() << 20) / blockBytes);
        int batches = (int) ((minBlocks + batch - 1) / batch);
        int perSide = batches * batch; // blocks of one direction's working set
        int sides = way == Way.BOTH ? 2 : 1;
        // At least one pass over the working set, so small blocks are not copied from the device's cache.
        int ops = Math.max(plan.operations(), batches);
        // blockBytes = tokens * layers * (2 * heads * headDim * 2 bytes), one KV head.
        int headDim = (int) (blockBytes / BLOCK_TOKENS / LAYERS / 4);
        ModelShape model = new ModelShape("bench-cuda", LAYERS, 1, headDim, DType.FP16);
        KvLayout host = KvLayouts.of(model, 0, 1, sides * perSide + 1, BLOCK_TOKENS, layout);
        KvLayout onDevice = new KvLayout(
                host.model(),
                0,
                1,
                host.numBlocks(),
                host.blockSize(),
                host.bytesPerBlockPerLayer(),
                layout,
                MemoryKind.CUDA_DEVICE);
        double serviceSeconds;
        double callsPerOp;
        try (DeviceKvMemory memory = DeviceKvMemory.allocate(onDevice, cuda);
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "bench-cuda-copy")) {
            HostBlockBuffer buffer = service.allocateHostBuffer(sides * perSide);
            try {
                int[][][] ids = new int[sides][batches][batch];
                int[][][] slots = new int[sides][batches][batch];
                for (int s = 0; s < sides; s++) {
                    for (int b = 0; b < batches; b++) {
                        for (int i = 0; i < batch; i++) {
                            int slot = s * perSide + b * batch + i;
                            ids[s][b][i] = slot + 1;
                            slots[s][b][i] = slot;
                        }
                    }
                }
                runService(service, buffer, way, ids, slots, ops, 0); // warm-up
                long calls0 = service.copyCalls();
                long t0 = System.nanoTime();
                runService(service, buffer, way, ids, slots, ops, ops);
                serviceSeconds = (System.nanoTime() - t0) / 1e9;
                callsPerOp = (double) (service.copyCalls() - calls0) / ops / sides;
            } finally {
                buffer.close();
            }
        }
        double plainSeconds = plain(cuda, blockBytes, batch, batches, sides, way, ops);
        double bytes = (double) blockBytes * batch * ops * sides;
        return new Result(
                kib,
                batch,
                layout,
                way,
                bytes / serviceSeconds / 1e9,
                bytes / plainSeconds / 1e9,
                callsPerOp,
                serviceSeconds * 1e6 / ((double) ops * batch * sides));
    }

    private static void runService(
            EngineBlockCopyService service,
            HostBlockBuffer buffer,
            Way way,
            int[][][] ids,
            int[][][] slots,
            int ops,
            int start)
            throws InterruptedException, CopyFailedException {
        int batches = ids[0].length;
        for (int op = 0; op < ops; op++) {
            int b = (start + op) % batches;
            CopyTicket first = way == Way.FROM_HOST
                    ? service.copyFromHost(buffer, slots[0][b], ids[0][b])
                    : service.copyToHost(ids[0][b], buffer, slots[0][b]);
            CopyTicket second = way == Way.BOTH ? service.copyFromHost(buffer, slots[1][b], ids[1][b]) : null;
            first.await();
            if (second != null) {
                second.await();
            }
        }
    }

    /** Seconds for {@code ops} operations of plain per-block copies (after as many untimed ones). */
    private static double plain(CudaCalls cuda, long blockBytes, int batch, int batches, int sides, Way way, int ops) {
        long bytes = blockBytes * batch * batches * sides;
        CudaCalls.DeviceMemory device = cuda.allocate(bytes);
        CudaCalls.PinnedMemory pinned = null;
        CudaCalls.Stream[] streams = new CudaCalls.Stream[sides];
        CudaCalls.Event[] events = new CudaCalls.Event[sides];
        try {
            pinned = cuda.allocatePinned(bytes);
            for (int s = 0; s < sides; s++) {
                streams[s] = cuda.newStream();
                events[s] = cuda.newEvent();
            }
            long t0 = 0;
            for (int op = 0; op < 2 * ops; op++) {
                if (op == ops) {
                    t0 = System.nanoTime();
                }
                int b = op % batches;
                for (int s = 0; s < sides; s++) {
                    boolean toHost = way == Way.TO_HOST || (way == Way.BOTH && s == 0);
                    for (int i = 0; i < batch; i++) {
                        long offset = ((long) (s * batches + b) * batch + i) * blockBytes;
                        MemorySegment host = pinned.segment().asSlice(offset, blockBytes);
                        if (toHost) {
                            cuda.copyToHost(host, blockBytes, device, offset, blockBytes, blockBytes, 1, streams[s]);
                        } else {
                            cuda.copyToDevice(device, offset, blockBytes, host, blockBytes, blockBytes, 1, streams[s]);
                        }
                    }
                    cuda.record(events[s], streams[s]);
                }
                for (int s = 0; s < sides; s++) {
                    cuda.synchronize(events[s]);
                }
            }
            return (System.nanoTime() - t0) / 1e9;
        } finally {
            for (int s = 0; s < sides; s++) {
                if (events[s] != null) {
                    cuda.destroy(events[s]);
                }
                if (streams[s] != null) {
                    cuda.destroy(streams[s]);
                }
            }
            if (pinned != null) {
                cuda.freePinned(pinned);
            }
            cuda.free(device);
        }
    }

    /** One line of the report for {@code r}, matching {@link #HEADER}. */
    public static String line(Result r) {
        return String.format(
                Locale.ROOT,
                "%6d %6d %-12s %-10s %12.2f %12.2f %7.2f %10.1f %10.2f",
                r.blockKiB(),
                r.batch(),
                r.layout(),
                r.way(),
                r.serviceGBps(),
                r.plainGBps(),
                r.ratio(),
                r.serviceCallsPerOp(),
                r.serviceMicrosPerBlock());
    }

    /** The report's column heads. */
    public static final String HEADER = String.format(
            Locale.ROOT,
            "%6s %6s %-12s %-10s %12s %12s %7s %10s %10s",
            "KiB",
            "batch",
            "layout",
            "way",
            "service GB/s",
            "plain GB/s",
            "ratio",
            "calls/op",
            "us/block");
}
