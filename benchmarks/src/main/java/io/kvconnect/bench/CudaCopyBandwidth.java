package io.kvconnect.bench;

import io.kvconnect.core.memory.CudaAvailability;
import io.kvconnect.core.memory.DeviceCopyBandwidth;
import io.kvconnect.core.memory.DeviceCopyBandwidth.Plan;
import io.kvconnect.core.memory.DeviceCopyBandwidth.Result;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * The engine's block-copy service on CUDA device memory against plain pinned {@code
 * cudaMemcpyAsync} calls of the same bytes, in the same run on device 0 (see {@link
 * DeviceCopyBandwidth}): blocks of 16 KiB to 4 MiB, batches of 1 to 128, device to host, host to
 * device and both at once, cross-layer and per-layer. Prints GB/s of both, their ratio, the
 * service's copy calls per batch and microseconds per block, and the target: the service reaches
 * {@value #TARGET_PERCENT}% of the plain copy for blocks of {@value #TARGET_KIB} KiB and up.
 *
 * <p>Run with {@code ./kvconnect bench cuda [--quick]} (or the device bundle's {@code check.sh}).
 * Where CUDA is not usable it prints why and a "skipped" line and exits 0. A report, not a test:
 * a missed target prints FAIL without changing the exit status.
 */
public final class CudaCopyBandwidth {
    static final int TARGET_KIB = 256;
    static final int TARGET_PERCENT = 90;

    private CudaCopyBandwidth() {}

    /** Entry point: {@code [--quick]} (a 64 MiB working set and 10 operations per case). */
    public static void main(String[] args) throws Exception {
        boolean quick = false;
        for (String arg : args) {
            if (arg.equals("--quick")) {
                quick = true;
            } else {
                System.err.println("bench cuda: unknown argument " + arg + "; usage: CudaCopyBandwidth [--quick]");
                System.exit(2);
            }
        }
        PrintStream out = System.out;
        CudaAvailability cuda = CudaAvailability.probe();
        if (!cuda.usable()) {
            out.println(cuda);
            out.println("CUDA copy bandwidth: skipped (" + cuda + ")");
            return;
        }
        Plan standard = Plan.standard();
        Plan plan = quick
                ? new Plan(standard.blockKiBs(), standard.batches(), standard.layouts(), standard.ways(), 64, 10)
                : standard;
        out.printf(
                Locale.ROOT,
                "CUDA copy bandwidth on device 0 of %s: working set %d MiB per direction, %d operations per case%n",
                cuda,
                plan.workingSetMiB(),
                plan.operations());
        List<Result> results = DeviceCopyBandwidth.measure(0, plan);
        out.println(DeviceCopyBandwidth.HEADER);
        int checked = 0;
        int passed = 0;
        for (Result r : results) {
            out.println(DeviceCopyBandwidth.line(r));
            if (r.blockKiB() >= TARGET_KIB) {
                checked++;
                passed += r.ratio() * 100 >= TARGET_PERCENT ? 1 : 0;
            }
        }
        out.printf(
                Locale.ROOT,
                "target: service >= %d%% of plain cudaMemcpyAsync for blocks of %d KiB and up: %d of %d cases -> %s%n",
                TARGET_PERCENT,
                TARGET_KIB,
                passed,
                checked,
                passed == checked ? "PASS" : "FAIL");
        out.println("calls/op: the service's copy calls per batch (cross-layer: one per run of adjacent blocks; "
                + "per-layer: one strided copy per layer and run); the plain path makes one per block");
    }
}
