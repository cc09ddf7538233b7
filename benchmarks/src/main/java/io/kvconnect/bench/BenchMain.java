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
 * summary: time and allocation per operation, the cost of a no-op connector in the scheduler step,
 * and the step-time target.
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
    /** ... takes less than this many microseconds. */
    static final double TARGET_MICROS = 50.0;

    private static final String STEP = SchedulerStepBenchmark.class.getName() + ".step";
    private static final String ALLOC_NORM = "gc.alloc.rate.norm";

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
        // requests -> connector -> us/op, for the connector / no-connector ratio.
        Map<Integer, Map<String, Double>> steps = new TreeMap<>();
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
                steps.computeIfAbsent(Integer.parseInt(p.getParam("requests")), k -> new TreeMap<>())
                        .put(p.getParam("connector"), perOp);
            }
        }
        printCopyBandwidth(sorted, out);
        if (steps.isEmpty()) {
            out.println("scheduler step: not measured in this run; target not checked");
            return;
        }
        out.println();
        out.printf(Locale.ROOT, "scheduler step, no-op connector vs no connector:%n");
        out.printf(Locale.ROOT, "%10s %14s %14s %8s%n", "requests", "none us/step", "noop us/step", "ratio");
        for (Map.Entry<Integer, Map<String, Double>> e : steps.entrySet()) {
            Double none = e.getValue().get("none");
            Double noop = e.getValue().get("noop");
            String ratio = none != null && noop != null ? String.format(Locale.ROOT, "%.3f", noop / none) : "n/a";
            out.printf(
                    Locale.ROOT,
                    "%10d %14s %14s %8s%n",
                    e.getKey(),
                    none == null ? "n/a" : micros(none),
                    noop == null ? "n/a" : micros(noop),
                    ratio);
        }
        Double atTarget = steps.getOrDefault(TARGET_REQUESTS, Map.of()).get("noop");
        String target = String.format(
                Locale.ROOT,
                "target: < %.0f us per step at %d requests with a no-op connector",
                TARGET_MICROS,
                TARGET_REQUESTS);
        if (atTarget == null) {
            out.println(target + ": not measured in this run");
        } else {
            out.printf(
                    Locale.ROOT,
                    "%s: %s us -> %s%n",
                    target,
                    micros(atTarget),
                    atTarget < TARGET_MICROS ? "PASS" : "FAIL");
        }
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
        // JMH declares the map with the raw Result type; read it through a wildcard.
        Map<String, ?> secondary = r.getSecondaryResults();
        for (Map.Entry<String, ?> e : secondary.entrySet()) {
            String key = e.getKey().startsWith("\u00b7") ? e.getKey().substring(1) : e.getKey();
            if (key.equals(ALLOC_NORM) && e.getValue() instanceof Result<?> result) {
                return Optional.of(result.getScore());
            }
        }
        return Optional.empty();
    }

    private static double toMicros(double value, TimeUnit unit) {
        return value * unit.toNanos(1) / 1000.0;
    }

    private static String micros(double us) {
        return String.format(Locale.ROOT, us >= 1 ? "%.3f" : "%.4f", us);
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
