package io.kvconnect.bench;

import io.kvconnect.api.worker.LayoutKind;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the kvconnect benchmarks through the JMH runner with a short configuration and prints a
 * summary: time and allocation per operation; for the scheduler step, what a no-op connector and
 * the offload connector's scheduler side add to the no-connector baseline of the same run, the
 * step's time and allocation target, how the step grows with the number of running requests
 * ({@link StepScaling}) and the ratio across pool sizes when several were run.
 *
 * <pre>
 *   BenchMain [REGEX] [--quick]
 * </pre>
 *
 * {@code REGEX} selects benchmarks as JMH's include pattern does (default: all of them);
 * {@code --quick} shortens warm-up and measurement for smoke runs. This is a report, not a test:
 * a missed target prints FAIL but does not change the exit status; a benchmark that throws does.
 */
public final class BenchMain {
    /** Target: one scheduler step with a no-op connector at this many running requests ... */
    static final int TARGET_REQUESTS = 256;
    /** ... takes at most this many microseconds ... */
    static final double TARGET_MICROS = 10.0;
    /** ... and allocates at most this many bytes (steady state allocates nothing). */
    static final double TARGET_BYTES = 0.0;
    /** The same step over pools of different sizes stays within this ratio (largest over smallest). */
    static final double POOL_RATIO = 1.2;

    private static final String STEP = SchedulerStepBenchmark.class.getName() + ".step";
    private static final String ALLOC_NORM = "gc.alloc.rate.norm";
    /** The collector's pause time over the measured iterations (JMH's gc profiler, milliseconds). */
    private static final String GC_TIME = "gc.time";

    private BenchMain() {}

    /** Entry point. */
    public static void main(String[] args) {
        String include = BenchMain.class.getPackageName().replace(".", "\\.") + "\\..*";
        boolean quick = false;
        Map<String, String[]> params = new java.util.LinkedHashMap<>();
        for (String arg : args) {
            switch (arg) {
                case "--quick" -> quick = true;
                case "-h", "--help" -> {
                    usage(System.out);
                    return;
                }
                default -> {
                    if (!arg.startsWith("-") && arg.contains("=")) {
                        // NAME=V1,V2 narrows a benchmark parameter to these values.
                        String[] kv = arg.split("=", 2);
                        params.put(kv[0], kv[1].split(","));
                        continue;
                    }
                    if (arg.startsWith("-")) {
                        System.err.println("bench: unknown option " + arg);
                        usage(System.err);
                        System.exit(2);
                    }
                    include = arg;
                }
            }
        }
        int warmups = quick ? 1 : 3;
        int measurements = quick ? 2 : 5;
        TimeValue iteration = quick ? TimeValue.milliseconds(500) : TimeValue.seconds(1);
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(include)
                .forks(1)
                .warmupIterations(warmups)
                .warmupTime(iteration)
                .measurementIterations(measurements)
                .measurementTime(iteration)
                .addProfiler(GCProfiler.class)
                .shouldFailOnError(true);
        params.forEach(options::param);
        Collection<RunResult> results;
        try {
            results = new Runner(options.build()).run();
        } catch (NoBenchmarksException e) {
            System.err.println("bench: no benchmark matches '" + include + "'");
            System.exit(2);
            return;
        } catch (RunnerException e) {
            // JMH has printed the failing benchmark's exception already.
            System.err.println("bench: " + e.getMessage() + (e.getCause() == null ? "" : ": " + e.getCause()));
            System.exit(1);
            return;
        }
        System.out.println();
        System.out.printf(
                Locale.ROOT,
                "kvconnect benchmarks: 1 fork, warm-up %d x %s, measurement %d x %s, -prof gc%n",
                warmups,
                iteration,
                measurements,
                iteration);
        printSummary(results, System.out);
    }

    private static void usage(PrintStream out) {
        out.println("usage: BenchMain [REGEX] [NAME=V1,V2 ...] [--quick]");
        out.println("  REGEX    benchmarks to run (JMH include pattern; default: all)");
        out.println("  NAME=V1,V2  run only these values of a benchmark parameter (e.g. blockKiB=256,4096)");
        out.println("  --quick  warm-up 1 x 0.5 s, measurement 2 x 0.5 s (smoke run)");
    }

    static void printSummary(Collection<RunResult> results, PrintStream out) {
        List<RunResult> sorted = new ArrayList<>(results);
        sorted.sort(Comparator.comparing((RunResult r) -> r.getParams().getBenchmark())
                .thenComparing(r -> paramString(r.getParams()), Comparator.comparing(BenchMain::naturalKey)));
        out.printf(Locale.ROOT, "%-50s %-28s %12s %10s %12s%n", "benchmark", "params", "us/op", "+-", "B/op");
        List<Step> steps = new ArrayList<>();
        for (RunResult r : sorted) {
            BenchmarkParams p = r.getParams();
            Result<?> primary = r.getPrimaryResult();
            double perOp = toMicros(primary.getScore(), p.getTimeUnit());
            double error = toMicros(primary.getScoreError(), p.getTimeUnit());
            String bytes =
                    allocNorm(r).map(b -> String.format(Locale.ROOT, "%.0f", b)).orElse("n/a");
            String name = shortName(p.getBenchmark());
            out.printf(
                    Locale.ROOT,
                    "%-50s %-28s %12s %10s %12s%n",
                    name,
                    paramString(p),
                    micros(perOp),
                    Double.isNaN(error) ? "" : micros(error),
                    bytes);
            if (p.getBenchmark().equals(STEP)) {
                steps.add(new Step(
                        Integer.parseInt(p.getParam("requests")),
                        intParam(p, "lifetime", SchedulerStepBenchmark.LIFETIME),
                        intParam(p, "poolBlocks", 0),
                        Optional.ofNullable(p.getParam("kvEvents")).orElse("off"),
                        Optional.ofNullable(p.getParam("phases")).orElse("spread"),
                        p.getParam("connector"),
                        perOp,
                        allocNorm(r).orElse(Double.NaN),
                        secondary(r, GC_TIME).orElse(Double.NaN)));
            }
        }
        printCopyBandwidth(sorted, out);
        if (steps.isEmpty()) {
            out.println("scheduler step: not measured in this run; target not checked");
            return;
        }
        printSteps(steps, out);
    }

    /** One measured scheduler step configuration. */
    private record Step(
            int requests,
            int lifetime,
            int poolBlocks,
            String kvEvents,
            String phases,
            String connector,
            double micros,
            double bytes,
            double gcMillis) {
        /** The workload apart from the connector. */
        String workload() {
            return String.format(
                    Locale.ROOT,
                    "%6d %8d %9s %6s %7s",
                    requests,
                    lifetime,
                    poolBlocks == 0 ? "fit" : Integer.toString(poolBlocks),
                    kvEvents,
                    phases);
        }
    }

    /**
     * The step per workload: each connector's time and allocation, and what each connector adds
     * to the no-connector baseline of the same run; then the targets.
     */
    private static void printSteps(List<Step> steps, PrintStream out) {
        // workload -> connector -> step, workloads in order of requests, lifetime, pool.
        Map<String, Map<String, Step>> byWorkload = new java.util.LinkedHashMap<>();
        steps.stream()
                .sorted(Comparator.comparingInt(Step::requests)
                        .thenComparingInt(Step::lifetime)
                        .thenComparingInt(Step::poolBlocks)
                        .thenComparing(Step::kvEvents)
                        .thenComparing(Step::phases))
                .forEach(st -> byWorkload
                        .computeIfAbsent(st.workload(), k -> new TreeMap<>())
                        .put(st.connector(), st));
        out.println();
        out.println("scheduler step (same run): us/step and B/step per connector; +us: added to no connector");
        out.printf(
                Locale.ROOT,
                "%6s %8s %9s %6s %7s %10s %8s %10s %8s %8s %10s %8s %8s%n",
                "reqs",
                "lifetime",
                "pool",
                "events",
                "phases",
                "none us",
                "B",
                "noop us",
                "B",
                "+us",
                "offload us",
                "B",
                "+us");
        for (Map.Entry<String, Map<String, Step>> e : byWorkload.entrySet()) {
            Step none = e.getValue().get("none");
            StringBuilder line = new StringBuilder(e.getKey());
            for (String c : List.of("none", "noop", "offload")) {
                Step st = e.getValue().get(c);
                line.append(String.format(
                        Locale.ROOT,
                        " %10s %8s",
                        st == null ? "n/a" : micros(st.micros()),
                        st == null || Double.isNaN(st.bytes())
                                ? "n/a"
                                : String.format(Locale.ROOT, "%.0f", st.bytes())));
                if (!c.equals("none")) {
                    line.append(String.format(
                            Locale.ROOT,
                            " %8s",
                            st == null || none == null ? "n/a" : micros(st.micros() - none.micros())));
                }
            }
            out.println(line);
        }
        Step atTarget = steps.stream()
                .filter(st -> st.requests() == TARGET_REQUESTS
                        && st.connector().equals("noop")
                        && st.lifetime() == SchedulerStepBenchmark.LIFETIME
                        && st.poolBlocks() == 0
                        && st.kvEvents().equals("off")
                        && st.phases().equals("spread"))
                .findFirst()
                .orElse(null);
        String target = String.format(
                Locale.ROOT,
                "target: <= %.0f us and %.0f B per step at %d requests with a no-op connector (KV events off, phases spread)",
                TARGET_MICROS,
                TARGET_BYTES,
                TARGET_REQUESTS);
        if (atTarget == null) {
            out.println(target + ": not measured in this run");
        } else {
            boolean pass = atTarget.micros() <= TARGET_MICROS && atTarget.bytes() <= TARGET_BYTES;
            out.printf(
                    Locale.ROOT,
                    "%s: %s us, %.0f B -> %s%n",
                    target,
                    micros(atTarget.micros()),
                    atTarget.bytes(),
                    pass ? "PASS" : "FAIL");
        }
        // The same workload and connector over three or more request counts: linear growth.
        Map<String, java.util.NavigableMap<Integer, Double>> byRequests = new TreeMap<>();
        for (Step st : steps) {
            byRequests
                    .computeIfAbsent(
                            st.connector() + ", lifetime " + st.lifetime() + ", pool "
                                    + (st.poolBlocks() == 0 ? "fit" : Integer.toString(st.poolBlocks()))
                                    + ", KV events " + st.kvEvents() + ", phases " + st.phases(),
                            k -> new TreeMap<>())
                    .put(st.requests(), st.micros());
        }
        byRequests.forEach(
                (workload, points) -> StepScaling.report(workload, points).ifPresent(out::println));
        // The same requests, lifetime and connector over two or more pool sizes.
        Map<String, List<Step>> byPool = new TreeMap<>();
        for (Step st : steps) {
            if (st.poolBlocks() > 0) {
                byPool.computeIfAbsent(
                                st.requests() + " requests, lifetime " + st.lifetime() + ", " + st.connector()
                                        + ", KV events " + st.kvEvents() + ", phases " + st.phases(),
                                k -> new ArrayList<>())
                        .add(st);
            }
        }
        for (Map.Entry<String, List<Step>> e : byPool.entrySet()) {
            List<Step> sizes = e.getValue();
            if (sizes.size() < 2) {
                continue;
            }
            sizes.sort(Comparator.comparingInt(Step::poolBlocks));
            Step small = sizes.getFirst();
            Step large = sizes.getLast();
            double ratio = large.micros() / small.micros();
            out.printf(
                    Locale.ROOT,
                    "pool size, %s: %d blocks %s us (gc %s ms), %d blocks %s us (gc %s ms), ratio %.3f"
                            + " (target <= %.1f) -> %s%n",
                    e.getKey(),
                    small.poolBlocks(),
                    micros(small.micros()),
                    millis(small.gcMillis()),
                    large.poolBlocks(),
                    micros(large.micros()),
                    millis(large.gcMillis()),
                    ratio,
                    POOL_RATIO,
                    ratio <= POOL_RATIO ? "PASS" : "FAIL");
        }
    }

    /** Milliseconds, or n/a where the gc profiler did not run. */
    private static String millis(double ms) {
        return Double.isNaN(ms) ? "n/a" : String.format(Locale.ROOT, "%.0f", ms);
    }

    private static int intParam(BenchmarkParams p, String name, int absent) {
        String v = p.getParam(name);
        return v == null ? absent : Integer.parseInt(v);
    }

    private static final String COPY = CopyBandwidthBenchmark.class.getName() + ".copy";
    /** Blocks of at least this size must reach this share of the plain copy (the offload tier's bandwidth target). */
    static final int BANDWIDTH_TARGET_KIB = 256;

    static final double BANDWIDTH_TARGET_RATIO = 0.9;

    /** GB/s of the copy service and of the plain copy, per size, batch, layout and direction, and their ratio. */
    private static void printCopyBandwidth(List<RunResult> sorted, PrintStream out) {
        // "blockKiB batch layout direction" -> path -> GB/s
        Map<String, Map<String, Double>> rates = new java.util.LinkedHashMap<>();
        for (RunResult r : sorted) {
            BenchmarkParams p = r.getParams();
            if (!p.getBenchmark().equals(COPY)) {
                continue;
            }
            double micros = toMicros(r.getPrimaryResult().getScore(), p.getTimeUnit());
            long bytes = (long) Integer.parseInt(p.getParam("batch")) * Integer.parseInt(p.getParam("blockKiB")) * 1024;
            String key = String.format(
                    Locale.ROOT,
                    "%6s %6s %-12s %-10s",
                    p.getParam("blockKiB"),
                    p.getParam("batch"),
                    p.getParam("layout"),
                    p.getParam("direction"));
            rates.computeIfAbsent(key, k -> new TreeMap<>()).put(p.getParam("path"), bytes / (micros * 1e-6) / 1e9);
        }
        if (rates.isEmpty()) {
            return;
        }
        out.println();
        out.println("block copies: engine copy service vs plain memory copy (same run)");
        out.printf(
                Locale.ROOT,
                "%6s %6s %-12s %-10s %12s %12s %7s %11s %9s%n",
                "KiB",
                "batch",
                "layout",
                "direction",
                "service GB/s",
                "plain GB/s",
                "ratio",
                "calls/batch",
                "us/block");
        int checked = 0;
        int passed = 0;
        for (Map.Entry<String, Map<String, Double>> e : rates.entrySet()) {
            Double service = e.getValue().get("service");
            Double plain = e.getValue().get("baseline");
            String ratio = "n/a";
            if (service != null && plain != null) {
                double q = service / plain;
                ratio = String.format(Locale.ROOT, "%.2f", q);
                if (Integer.parseInt(e.getKey().strip().split("\\s+")[0]) >= BANDWIDTH_TARGET_KIB) {
                    checked++;
                    passed += q >= BANDWIDTH_TARGET_RATIO ? 1 : 0;
                }
            }
            String[] key = e.getKey().strip().split("\\s+");
            int kib = Integer.parseInt(key[0]);
            int batch = Integer.parseInt(key[1]);
            long calls = CopyBandwidthBenchmark.serviceCopyCallsPerBatch(LayoutKind.valueOf(key[2]), batch);
            // Service microseconds per block, from its GB/s: how much a small block costs on its own.
            String perBlock =
                    service == null ? "n/a" : String.format(Locale.ROOT, "%.2f", kib * 1024.0 / (service * 1e9) * 1e6);
            out.printf(
                    Locale.ROOT,
                    "%s %12s %12s %7s %11d %9s%n",
                    e.getKey(),
                    service == null ? "n/a" : gbps(service),
                    plain == null ? "n/a" : gbps(plain),
                    ratio,
                    calls,
                    perBlock);
        }
        out.printf(
                Locale.ROOT,
                "target: service >= %.0f%% of the plain copy for blocks of %d KiB and up: %d of %d "
                        + "configurations%n",
                BANDWIDTH_TARGET_RATIO * 100,
                BANDWIDTH_TARGET_KIB,
                passed,
                checked);
    }

    private static String gbps(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    /** The gc profiler's allocation per operation; JMH labels it with or without a leading middle dot. */
    private static Optional<Double> allocNorm(RunResult r) {
        return secondary(r, ALLOC_NORM);
    }

    /** A secondary result of the run (a profiler's), by name. */
    private static Optional<Double> secondary(RunResult r, String name) {
        // JMH declares the map with the raw Result type; read it through a wildcard.
        Map<String, ?> secondary = r.getSecondaryResults();
        for (Map.Entry<String, ?> e : secondary.entrySet()) {
            String key = e.getKey().startsWith("\u00b7") ? e.getKey().substring(1) : e.getKey();
            if (key.equals(name) && e.getValue() instanceof Result<?> result) {
                return Optional.of(result.getScore());
            }
        }
        return Optional.empty();
    }

    private static double toMicros(double value, TimeUnit unit) {
        return value * unit.toNanos(1) / 1000.0;
    }

    private static String micros(double us) {
        return String.format(Locale.ROOT, Math.abs(us) >= 1 ? "%.3f" : "%.4f", us);
    }

    private static String shortName(String benchmark) {
        String prefix = BenchMain.class.getPackageName() + ".";
        return benchmark.startsWith(prefix) ? benchmark.substring(prefix.length()) : benchmark;
    }

    private static String paramString(BenchmarkParams p) {
        List<String> parts = new ArrayList<>();
        for (String key : p.getParamsKeys()) {
            parts.add(key + "=" + p.getParam(key));
        }
        return String.join(" ", parts);
    }

    /** Orders "requests=32" before "requests=128": digit runs compare by value. */
    private static String naturalKey(String s) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isDigit(c)) {
                int j = i;
                while (j < s.length() && Character.isDigit(s.charAt(j))) {
                    j++;
                }
                String digits = s.substring(i, j);
                b.append(String.format(Locale.ROOT, "%010d", Long.parseLong(digits)));
                i = j;
            } else {
                b.append(c);
                i++;
            }
        }
        return b.toString();
    }
}
