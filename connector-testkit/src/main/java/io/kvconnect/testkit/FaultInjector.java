package io.kvconnect.testkit;

import io.kvconnect.core.memory.CopyFaults;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Draws faults of a {@link FaultPlan} and counts them by kind. Thread-safe: copy streams, workers
 * and the scheduler thread draw concurrently (which faults land where is then not reproducible
 * across runs, only their rates are).
 */
final class FaultInjector implements CopyFaults {
    private final FaultPlan plan;
    private final SplittableRandom random;
    private final Map<String, LongAdder> injected = new ConcurrentHashMap<>();
    /** The hook that throws once, at its {@link #onceAt}th call; null when none does. */
    private final String onceHook;

    private final int onceAt;
    private int onceCalls;

    FaultInjector(FaultPlan plan, long seed) {
        this(plan, seed, null, 0);
    }

    private FaultInjector(FaultPlan plan, long seed, String onceHook, int onceAt) {
        this.plan = plan;
        this.random = new SplittableRandom(seed);
        this.onceHook = onceHook;
        this.onceAt = onceAt;
    }

    /**
     * An injector that draws nothing and throws just once: in the {@code n}th (1-based) call of
     * {@code hook}. Wrapping one rank's worker with it makes that rank alone lose one step's
     * orders, as when a plugin's bind fails after the other ranks took theirs.
     */
    static FaultInjector throwingOnce(String hook, int n) {
        return new FaultInjector(FaultPlan.NONE, 0, hook, n);
    }

    /**
     * Throws {@link InjectedFault} in a hook call at the plan's rate, counted under {@code
     * hook_throw:<hook>}.
     */
    void maybeThrowIn(String hook) {
        if (hook.equals(onceHook) && countOnce() == onceAt) {
            count("hook_throw:" + hook);
            throw new InjectedFault(hook);
        }
        if (plan.hookThrowRate() > 0 && draw() < plan.hookThrowRate()) {
            count("hook_throw:" + hook);
            throw new InjectedFault(hook);
        }
    }

    /** Whether a worker's report of failed loads is held back one step, counted under {@code late_errors}. */
    boolean delayErrorReport() {
        if (plan.lateErrorRate() > 0 && draw() < plan.lateErrorRate()) {
            count("late_errors");
            return true;
        }
        return false;
    }

    @Override
    public void beforeCopy(Direction direction, int[] blockIds) throws Exception {
        String dir = direction == Direction.TO_HOST ? "to_host" : "from_host";
        if (plan.copyFailRate() > 0 && draw() < plan.copyFailRate()) {
            count("copy_fail:" + dir);
            throw new IOException(
                    "injected copy failure (" + direction + ", blocks " + Arrays.toString(blockIds) + ")");
        }
        if (plan.copyStallRate() > 0 && draw() < plan.copyStallRate()) {
            count("copy_stall:" + dir);
            Thread.sleep(plan.stallMillis());
        }
    }

    /** Faults injected so far, by kind, sorted. */
    Map<String, Long> injected() {
        Map<String, Long> out = new TreeMap<>();
        injected.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    private synchronized int countOnce() {
        return ++onceCalls;
    }

    private synchronized double draw() {
        return random.nextDouble();
    }

    private void count(String kind) {
        injected.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }
}
