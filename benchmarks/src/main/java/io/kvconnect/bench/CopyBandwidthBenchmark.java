package io.kvconnect.bench;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.memory.EngineBlockCopyService;
import io.kvconnect.core.memory.HostKvMemory;
import io.kvconnect.core.memory.KvLayouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Bandwidth of the engine's block-copy service (the data path of host-memory tiers) against a
 * plain memory copy of the same bytes measured in the same run.
 *
 * <p>One operation moves {@code batch} blocks of {@code blockKiB} between the workers' KV memory
 * and a host buffer, in {@code direction}, and waits for it. Successive operations walk through a
 * working set of at least {@value #WORKING_SET_MIB} MiB on each side, so both paths copy from and to
 * main memory, as a KV tier does; copying the same few blocks again and again would measure the
 * CPU caches instead (a 256 KiB block stays in L2, and a plain copy on one thread keeps it there
 * while the copy stream, on another core, does not). {@code path=service} goes through
 * {@link EngineBlockCopyService} (argument checks, hand-off to the copy-stream thread, per-layer or
 * whole-block copies, completion); {@code path=baseline} is {@link MemorySegment#copy} of the same
 * blocks on the calling thread (one copy per block, contiguous), the best the copy service could
 * do. {@code BenchMain} prints GB/s and the service/baseline ratio.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// A fixed heap, touched at start as in an engine that has run a while: the service allocates a
// little per copy, and each first touch of a heap page is a page fault the baseline never pays.
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch", "-XX:MaxDirectMemorySize=4g"})
@State(Scope.Thread)
public class CopyBandwidthBenchmark {
    /** Layers of the benchmark model: a per-layer block is that many separate copies. */
    static final int LAYERS = 16;

    static final int BLOCK_TOKENS = 16;
    /** The least memory each side of the copy walks through. */
    static final long WORKING_SET_MIB = 256;

    /** Bytes of one block (all layers), in KiB. */
    @Param({"16", "256", "4096"})
    public int blockKiB;

    /** Blocks per copy call. */
    @Param({"1", "16", "128"})
    public int batch;

    /** KV memory layout. */
    @Param({"PER_LAYER", "CROSS_LAYER"})
    public LayoutKind layout;

    /** GPU to host (store) or host to GPU (load). */
    @Param({"TO_HOST", "FROM_HOST"})
    public String direction;

    /** The engine's copy service or a plain copy. */
    @Param({"service", "baseline"})
    public String path;

    private HostKvMemory memory;
    private EngineBlockCopyService copies;
    private HostBlockBuffer buffer;
    private Arena baselineArena;
    private MemorySegment baselineHost;
    /** Block ids and slots of each batch in the working set. */
    private int[][] blockIds;

    private int[][] slots;
    private int next;
    private long blockBytes;

    /** Bytes moved by one operation, for GB/s. */
    long bytesPerOp() {
        return (long) batch * blockKiB * 1024;
    }

    /**
     * Copy calls the copy service makes for one batch of {@code batch} adjacent blocks to adjacent
     * slots in {@code layout}, as this benchmark copies them: measured on a small host memory of
     * 16 KiB blocks (the count depends on the layout and batch, not the block size).
     */
    static long serviceCopyCallsPerBatch(LayoutKind layout, int batch) {
        ModelShape model = new ModelShape("bench-calls", LAYERS, 1, 16, DType.FP16);
        try (HostKvMemory small = HostKvMemory.allocate(KvLayouts.of(model, 0, 1, batch + 1, BLOCK_TOKENS, layout));
                EngineBlockCopyService service = new EngineBlockCopyService(small, "bench-copy-calls");
                HostBlockBuffer slotsBuffer = service.allocateHostBuffer(batch)) {
            int[] ids = new int[batch];
            int[] slotIds = new int[batch];
            for (int i = 0; i < batch; i++) {
                ids[i] = i + 1;
                slotIds[i] = i;
            }
            service.copyToHost(ids, slotsBuffer, slotIds).await();
            return service.copyCalls();
        } catch (CopyFailedException e) {
            throw new IllegalStateException("counting copy calls failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while counting copy calls", e);
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        blockBytes = blockKiB * 1024L;
        // blockBytes = tokens * layers * (2 * heads * headDim * 2 bytes); one KV head per 64-byte unit.
        long perTokenPerLayer = blockBytes / BLOCK_TOKENS / LAYERS;
        int headDim = (int) (perTokenPerLayer / 4);
        ModelShape model = new ModelShape("bench", LAYERS, 1, headDim, DType.FP16);
        long minBlocks = (WORKING_SET_MIB << 20) / blockBytes;
        int batches = (int) Math.max(1, (minBlocks + batch - 1) / batch);
        int blocks = batches * batch;
        memory = HostKvMemory.allocate(KvLayouts.of(model, 0, 1, blocks + 1, BLOCK_TOKENS, layout));
        if (memory.layout().bytesPerBlock() != blockBytes) {
            throw new IllegalStateException(
                    "block is " + memory.layout().bytesPerBlock() + " bytes, not " + blockBytes);
        }
        copies = new EngineBlockCopyService(memory, "bench-copy");
        buffer = copies.allocateHostBuffer(blocks);
        baselineArena = Arena.ofShared();
        baselineHost = baselineArena.allocate(blockBytes * blocks, 64);
        blockIds = new int[batches][batch];
        slots = new int[batches][batch];
        for (int b = 0; b < batches; b++) {
            for (int i = 0; i < batch; i++) {
                int slot = b * batch + i;
                blockIds[b][i] = slot + 1;
                slots[b][i] = slot;
                for (int l = 0; l < LAYERS; l++) {
                    memory.blockLayer(slot + 1, l).fill((byte) (slot + l));
                }
            }
        }
        for (int slot = 0; slot < blocks; slot++) {
            buffer.slot(slot).fill((byte) slot); // touch every page before measuring, as the KV memory is
        }
        baselineHost.fill((byte) 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buffer.close();
        copies.close();
        memory.close();
        baselineArena.close();
    }

    @Benchmark
    public long copy() throws CopyFailedException, InterruptedException {
        boolean toHost = direction.equals("TO_HOST");
        int[] ids = blockIds[next];
        int[] slotIds = slots[next];
        next = (next + 1) % blockIds.length;
        if (path.equals("service")) {
            var ticket = toHost ? copies.copyToHost(ids, buffer, slotIds) : copies.copyFromHost(buffer, slotIds, ids);
            ticket.await();
            return ticket.bytes();
        }
        plainCopy(memory, baselineHost, ids, slotIds, blockBytes, layout, toHost);
        return bytesPerOp();
    }

    /** The baseline: one plain copy per block, or per block and layer, on this thread. */
    static void plainCopy(
            HostKvMemory memory,
            MemorySegment plainHost,
            int[] ids,
            int[] slots,
            long blockBytes,
            LayoutKind layout,
            boolean toHost) {
        long perLayer = blockBytes / LAYERS;
        for (int i = 0; i < ids.length; i++) {
            MemorySegment host = plainHost.asSlice(slots[i] * blockBytes, blockBytes);
            if (layout == LayoutKind.CROSS_LAYER) {
                MemorySegment gpu = memory.block(ids[i]);
                if (toHost) {
                    MemorySegment.copy(gpu, 0, host, 0, blockBytes);
                } else {
                    MemorySegment.copy(host, 0, gpu, 0, blockBytes);
                }
            } else {
                for (int l = 0; l < LAYERS; l++) {
                    MemorySegment gpu = memory.blockLayer(ids[i], l);
                    if (toHost) {
                        MemorySegment.copy(gpu, 0, host, l * perLayer, perLayer);
                    } else {
                        MemorySegment.copy(host, l * perLayer, gpu, 0, perLayer);
                    }
                }
            }
        }
    }
}
