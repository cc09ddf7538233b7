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
 * and a host buffer, in {@code direction}, and waits for it. {@code path=service} goes through
 * {@link EngineBlockCopyService} (argument checks, hand-off to the copy-stream thread, per-layer or
 * whole-block copies, completion); {@code path=baseline} is {@link MemorySegment#copy} of the same
 * blocks on the calling thread (one copy per block, contiguous), the best the copy service could
 * do. {@code BenchMain} prints GB/s and the service/baseline ratio.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class CopyBandwidthBenchmark {
    /** Layers of the benchmark model: a per-layer block is that many separate copies. */
    static final int LAYERS = 16;
    static final int BLOCK_TOKENS = 16;

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
    private int[] blockIds;
    private int[] slots;
    private long blockBytes;

    /** Bytes moved by one operation, for GB/s. */
    long bytesPerOp() {
        return (long) batch * blockKiB * 1024;
    }

    @Setup(Level.Trial)
    public void setUp() {
        blockBytes = blockKiB * 1024L;
        // blockBytes = tokens * layers * (2 * heads * headDim * 2 bytes); one KV head per 64-byte unit.
        long perTokenPerLayer = blockBytes / BLOCK_TOKENS / LAYERS;
        int headDim = (int) (perTokenPerLayer / 4);
        ModelShape model = new ModelShape("bench", LAYERS, 1, headDim, DType.FP16);
        memory = HostKvMemory.allocate(KvLayouts.of(model, 0, 1, batch + 1, BLOCK_TOKENS, layout));
        if (memory.layout().bytesPerBlock() != blockBytes) {
            throw new IllegalStateException("block is " + memory.layout().bytesPerBlock() + " bytes, not " + blockBytes);
        }
        copies = new EngineBlockCopyService(memory, "bench-copy");
        buffer = copies.allocateHostBuffer(batch);
        baselineArena = Arena.ofShared();
        baselineHost = baselineArena.allocate(blockBytes * batch, 64);
        blockIds = new int[batch];
        slots = new int[batch];
        for (int i = 0; i < batch; i++) {
            blockIds[i] = i + 1;
            slots[i] = i;
            for (int l = 0; l < LAYERS; l++) {
                memory.blockLayer(i + 1, l).fill((byte) (i + l));
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        copies.close();
        memory.close();
        baselineArena.close();
    }

    @Benchmark
    public long copy() throws CopyFailedException, InterruptedException {
        boolean toHost = direction.equals("TO_HOST");
        if (path.equals("service")) {
            var ticket = toHost ? copies.copyToHost(blockIds, buffer, slots)
                    : copies.copyFromHost(buffer, slots, blockIds);
            ticket.await();
            return ticket.bytes();
        }
        long perLayer = blockBytes / LAYERS;
        for (int i = 0; i < batch; i++) {
            MemorySegment host = baselineHost.asSlice(i * blockBytes, blockBytes);
            if (layout == LayoutKind.CROSS_LAYER) {
                MemorySegment gpu = memory.block(blockIds[i]);
                if (toHost) {
                    MemorySegment.copy(gpu, 0, host, 0, blockBytes);
                } else {
                    MemorySegment.copy(host, 0, gpu, 0, blockBytes);
                }
            } else {
                for (int l = 0; l < LAYERS; l++) {
                    MemorySegment gpu = memory.blockLayer(blockIds[i], l);
                    if (toHost) {
                        MemorySegment.copy(gpu, 0, host, l * perLayer, perLayer);
                    } else {
                        MemorySegment.copy(host, l * perLayer, gpu, 0, perLayer);
                    }
                }
            }
        }
        return bytesPerOp();
    }
}
