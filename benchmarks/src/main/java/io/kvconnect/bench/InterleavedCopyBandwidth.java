package io.kvconnect.bench;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.memory.EngineBlockCopyService;
import io.kvconnect.core.memory.HostKvMemory;
import io.kvconnect.core.memory.KvLayouts;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@link CopyBandwidthBenchmark}'s comparison, interleaved: per configuration, rounds of the copy
 * service and rounds of the plain copy alternate in one JVM, so both see the same load. The JMH
 * benchmark measures each path in its own fork, seconds apart; on a machine whose other jobs come
 * and go (a shared build machine), that alone moves the ratio by a factor of two either way.
 *
 * <p>Same set-up as the JMH benchmark: 16 layers, blocks of {@code blockKiB}, batches of adjacent
 * blocks to adjacent slots walking a working set of at least 256 MiB per side, each operation
 * waited for. A round is at least one pass over the working set and at least 64 MiB; after two
 * rounds of warm-up, it prints for each path the median round's microseconds per operation and
 * the fastest single operation, and the ratio plain/service of each (above 1: the service is
 * faster). The fastest operation is the one least disturbed by other load: its ratio is the
 * service's own cost.
 *
 * <p>Run with {@code ./kvconnect bench copy-interleaved [KIBS [BATCHES [ROUNDS]]]}, lists comma
 * separated (defaults {@code 256,4096}, {@code 1,16,128}, 7). A report, not a test.
 */
public final class InterleavedCopyBandwidth {
    private static final int LAYERS = CopyBandwidthBenchmark.LAYERS;
    private static final int BLOCK_TOKENS = CopyBandwidthBenchmark.BLOCK_TOKENS;
    private static final long ROUND_BYTES = 64L << 20;

    private InterleavedCopyBandwidth() {}

    /** Entry point; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        if (args.length > 3) {
            System.err.println("usage: InterleavedCopyBandwidth [KIBS [BATCHES [ROUNDS]]]");
            System.exit(2);
        }
        int[] kibs = ints(args.length > 0 ? args[0] : "256,4096");
        int[] batches = ints(args.length > 1 ? args[1] : "1,16,128");
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 7;
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be positive, got " + rounds);
        }
        PrintStream out = System.out;
        out.printf(
                Locale.ROOT,
                "%6s %6s %-12s %-10s %12s %12s %12s %12s %8s %8s%n",
                "KiB",
                "batch",
                "layout",
                "direction",
                "svc med us",
                "plain med us",
                "svc op us",
                "plain op us",
                "r.med",
                "r.op");
        for (int kib : kibs) {
            for (int batch : batches) {
                for (LayoutKind layout : LayoutKind.values()) {
                    for (boolean toHost : new boolean[] {true, false}) {
                        measure(out, kib, batch, layout, toHost, rounds);
                    }
                }
            }
        }
    }

    private static void measure(PrintStream out, int kib, int batch, LayoutKind layout, boolean toHost, int rounds)
            throws CopyFailedException, InterruptedException {
        long blockBytes = kib * 1024L;
        int headDim = (int) (blockBytes / BLOCK_TOKENS / LAYERS / 4);
        ModelShape model = new ModelShape("bench", LAYERS, 1, headDim, DType.FP16);
        long minBlocks = (CopyBandwidthBenchmark.WORKING_SET_MIB << 20) / blockBytes;
        int batchCount = (int) Math.max(1, (minBlocks + batch - 1) / batch);
        int blocks = batchCount * batch;
        try (HostKvMemory memory = HostKvMemory.allocate(KvLayouts.of(model, 0, 1, blocks + 1, BLOCK_TOKENS, layout));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "bench-copy");
                HostBlockBuffer buffer = service.allocateHostBuffer(blocks);
                Arena arena = Arena.ofShared()) {
            MemorySegment plainHost = arena.allocate(blockBytes * blocks, 64);
            int[][] ids = new int[batchCount][batch];
            int[][] slots = new int[batchCount][batch];
            for (int b = 0; b < batchCount; b++) {
                for (int i = 0; i < batch; i++) {
                    int slot = b * batch + i;
                    ids[b][i] = slot + 1;
                    slots[b][i] = slot;
                    for (int l = 0; l < LAYERS; l++) {
                        memory.blockLayer(slot + 1, l).fill((byte) (slot + l));
                    }
                }
            }
            for (int slot = 0; slot < blocks; slot++) {
                buffer.slot(slot).fill((byte) slot);
            }
            plainHost.fill((byte) 1);
            int ops = (int) Math.max(batchCount, (ROUND_BYTES + batch * blockBytes - 1) / (batch * blockBytes));
            double[] serviceUs = new double[rounds];
            double[] plainUs = new double[rounds];
            long serviceOp = Long.MAX_VALUE;
            long plainOp = Long.MAX_VALUE;
            int next = 0;
            for (int round = -2; round < rounds; round++) {
                // Which path goes first alternates (ABBA), so that neither always runs on the
                // caches and the clock the other left behind.
                boolean serviceFirst = (round & 1) == 0;
                long serviceNanos = 0;
                long plainNanos = 0;
                for (int half = 0; half < 2; half++) {
                    long t0 = System.nanoTime();
                    if ((half == 0) == serviceFirst) {
                        for (int k = 0; k < ops; k++, next = (next + 1) % batchCount) {
                            long start = System.nanoTime();
                            CopyTicket ticket = toHost
                                    ? service.copyToHost(ids[next], buffer, slots[next])
                                    : service.copyFromHost(buffer, slots[next], ids[next]);
                            ticket.await();
                            serviceOp = round < 0 ? serviceOp : Math.min(serviceOp, System.nanoTime() - start);
                        }
                        serviceNanos = System.nanoTime() - t0;
                    } else {
                        for (int k = 0; k < ops; k++, next = (next + 1) % batchCount) {
                            long start = System.nanoTime();
                            CopyBandwidthBenchmark.plainCopy(
                                    memory, plainHost, ids[next], slots[next], blockBytes, layout, toHost);
                            plainOp = round < 0 ? plainOp : Math.min(plainOp, System.nanoTime() - start);
                        }
                        plainNanos = System.nanoTime() - t0;
                    }
                }
                if (round >= 0) {
                    serviceUs[round] = serviceNanos / 1e3 / ops;
                    plainUs[round] = plainNanos / 1e3 / ops;
                }
            }
            Arrays.sort(serviceUs);
            Arrays.sort(plainUs);
            double serviceMedian = serviceUs[rounds / 2];
            double plainMedian = plainUs[rounds / 2];
            out.printf(
                    Locale.ROOT,
                    "%6d %6d %-12s %-10s %12.1f %12.1f %12.1f %12.1f %8.2f %8.2f%n",
                    kib,
                    batch,
                    layout,
                    toHost ? "TO_HOST" : "FROM_HOST",
                    serviceMedian,
                    plainMedian,
                    serviceOp / 1e3,
                    plainOp / 1e3,
                    plainMedian / serviceMedian,
                    (double) plainOp / serviceOp);
        }
    }

    private static int[] ints(String list) {
        return Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
