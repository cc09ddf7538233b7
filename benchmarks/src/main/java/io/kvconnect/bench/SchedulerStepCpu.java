package io.kvconnect.bench;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The scheduler step's cost on the engine thread itself: its CPU time and the bytes it allocates
 * per step, read from the thread's own counters ({@code ThreadMXBean}) while {@link
 * SchedulerStepBenchmark#step()} runs in a loop, in rounds of a fixed wall time after a long
 * warm-up.
 *
 * <p><b>Why beside JMH.</b> On a shared machine JMH's average time per step swings by more than
 * its own size from run to run, because it counts time the thread did not run and the collector's
 * pauses. The thread's CPU time counts neither. The warm-up matters: after 50,000 steps the heap
 * of this workload is still filling and its young collections take tens of milliseconds, which
 * land in the rounds; after 300,000 (the default) it is steady.
 *
 * <p><b>Comparing.</b> One configuration per run, so that the JIT compiles for that one alone.
 * To compare builds or settings, alternate runs of each in a random order and compare the best
 * rounds; a collector is chosen the usual way, for example {@code
 * JAVA_TOOL_OPTIONS=-XX:+UseParallelGC}.
 *
 * <p>Run with {@code ./kvconnect bench step-cpu [NAME=VALUE ...]}: the benchmark's parameters
 * {@code requests} (256), {@code connector} ({@code noop}), {@code lifetime} (16384), {@code
 * poolBlocks} (0: sized to fit), {@code kvEvents} ({@code off}) and {@code phases} ({@code spread}), and {@code warmup} (steps,
 * 300000), {@code seconds} (per round, 2), {@code rounds} (5) and {@code allocSteps} (100000; 0 skips
 * it). Prints each round, then the best and the median round, then how the allocation of {@code
 * allocSteps} further steps, measured one by one, splits between steady decode and the requests'
 * arrivals and finishes. Not a test: nothing is asserted about the numbers.
 */
public final class SchedulerStepCpu {
    private static final Map<String, String> DEFAULTS = defaults();

    private SchedulerStepCpu() {}

    /** Entry point; see the class comment for the arguments. Exits with 2 on a bad argument. */
    public static void main(String[] args) {
        Map<String, String> p = new LinkedHashMap<>(DEFAULTS);
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq <= 0 || !DEFAULTS.containsKey(a.substring(0, eq))) {
                System.err.println(
                        "step-cpu: expected NAME=VALUE with NAME one of " + DEFAULTS.keySet() + ", got '" + a + "'");
                System.exit(2);
            }
            p.put(a.substring(0, eq), a.substring(eq + 1));
        }
        try {
            run(p, System.out);
        } catch (IllegalArgumentException e) {
            System.err.println("step-cpu: " + e.getMessage());
            System.exit(2);
        }
    }

    private static void run(Map<String, String> p, PrintStream out) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        if (!threads.isCurrentThreadCpuTimeSupported() || !threads.isThreadAllocatedMemorySupported()) {
            throw new IllegalArgumentException("this JVM measures no thread CPU time or allocation");
        }
        long warmup = positive(p, "warmup", true);
        long seconds = positive(p, "seconds", false);
        int rounds = Math.toIntExact(positive(p, "rounds", false));

        SchedulerStepBenchmark b = new SchedulerStepBenchmark();
        b.requests = Math.toIntExact(positive(p, "requests", false));
        b.connector = p.get("connector");
        b.lifetime = Math.toIntExact(positive(p, "lifetime", false));
        b.poolBlocks = Math.toIntExact(positive(p, "poolBlocks", true));
        b.kvEvents = p.get("kvEvents");
        b.phases = p.get("phases");
        b.setUp();
        out.printf(Locale.ROOT, "step-cpu: %s; %d warm-up steps ...%n", p, warmup);
        for (long i = 0; i < warmup; i++) {
            b.step();
        }
        double[] cpuPerStep = new double[rounds];
        for (int round = 0; round < rounds; round++) {
            long cpu0 = threads.getCurrentThreadCpuTime();
            long bytes0 = threads.getCurrentThreadAllocatedBytes();
            long wall0 = System.nanoTime();
            long steps = 0;
            while (System.nanoTime() - wall0 < seconds * 1_000_000_000L) {
                for (int i = 0; i < 1000; i++) {
                    b.step();
                }
                steps += 1000;
            }
            long cpu = threads.getCurrentThreadCpuTime() - cpu0;
            long bytes = threads.getCurrentThreadAllocatedBytes() - bytes0;
            long wall = System.nanoTime() - wall0;
            cpuPerStep[round] = cpu / 1e3 / steps;
            out.printf(
                    Locale.ROOT,
                    "round %d: %d steps, %.2f us CPU/step, %.2f us wall/step, %d B/step%n",
                    round + 1,
                    steps,
                    cpuPerStep[round],
                    wall / 1e3 / steps,
                    bytes / steps);
        }
        splitAllocation(b, threads, positive(p, "allocSteps", true), out);
        // Fails if a measured step was not pure decode (the benchmark's own check).
        b.tearDown();
        double[] sorted = cpuPerStep.clone();
        Arrays.sort(sorted);
        out.printf(
                Locale.ROOT,
                "best round %.2f us CPU/step, median %.2f (engine thread, %d rounds of %d s)%n",
                sorted[0],
                sorted[rounds / 2],
                rounds,
                seconds);
    }

    /**
     * Measures {@code steps} steps one by one and splits their allocation into what steady decode
     * allocates per step and what each request costs once. A step is <i>quiet</i> when no request
     * finished in it and none arrived since the step before (a finished request is replaced in the
     * same call and admitted by the next step); the rest are <i>lifecycle</i> steps. Their bytes
     * beyond the quiet rate, divided by the requests that finished, are the bytes of one request's
     * arrival and finish.
     */
    private static void splitAllocation(
            SchedulerStepBenchmark b, com.sun.management.ThreadMXBean threads, long steps, PrintStream out) {
        if (steps == 0) {
            return;
        }
        // What reading the counter twice costs by itself (expected 0), taken off every step.
        long probe = threads.getCurrentThreadAllocatedBytes();
        long overhead = threads.getCurrentThreadAllocatedBytes() - probe;
        long quietBytes = 0;
        long quietSteps = 0;
        long lifecycleBytes = 0;
        long lifecycleSteps = 0;
        long finishes = 0;
        boolean arrivalPending = false;
        for (long i = 0; i < steps; i++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            b.step();
            long bytes = threads.getCurrentThreadAllocatedBytes() - before - overhead;
            int finished = b.lastFinishes();
            if (finished == 0 && !arrivalPending) {
                quietBytes += bytes;
                quietSteps++;
            } else {
                lifecycleBytes += bytes;
                lifecycleSteps++;
            }
            finishes += finished;
            arrivalPending = finished > 0;
        }
        double quietRate = quietSteps == 0 ? 0 : (double) quietBytes / quietSteps;
        out.printf(
                Locale.ROOT,
                "allocation of %d steps measured one by one: quiet steps %.1f B/step (%d steps), steps with a"
                        + " finish or an arrival %.1f B/step (%d steps), one request's arrival and finish %.0f B"
                        + " (%d requests)%n",
                steps,
                quietRate,
                quietSteps,
                lifecycleSteps == 0 ? 0 : (double) lifecycleBytes / lifecycleSteps,
                lifecycleSteps,
                finishes == 0 ? 0 : (lifecycleBytes - quietRate * lifecycleSteps) / finishes,
                finishes);
    }

    private static long positive(Map<String, String> p, String name, boolean zeroAllowed) {
        long v;
        try {
            v = Long.parseLong(p.get(name));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + p.get(name) + "'", e);
        }
        if (v < 0 || (v == 0 && !zeroAllowed)) {
            throw new IllegalArgumentException(
                    name + " must be " + (zeroAllowed ? "at least 0" : "positive") + ", got " + v);
        }
        return v;
    }

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("requests", "256");
        d.put("connector", "noop");
        d.put("lifetime", "" + SchedulerStepBenchmark.LIFETIME);
        d.put("poolBlocks", "0");
        d.put("kvEvents", "off");
        d.put("phases", "spread");
        d.put("warmup", "300000");
        d.put("seconds", "2");
        d.put("rounds", "5");
        d.put("allocSteps", "100000");
        return d;
    }
}
