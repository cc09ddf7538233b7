package io.kvconnect.testkit;

import io.kvconnect.api.common.ConfigException;
import java.util.Locale;

/**
 * Which faults a {@link Soak} injects, and how often. Rates are per event: per copy for the copy
 * faults, per hook call for {@code hookThrowRate}, per worker report for {@code lateErrorRate}. A
 * failed copy moves no byte; a stalled copy waits {@code stallMillis} before it moves any; a thrown
 * hook throws before the connector sees the call; a late report of failed loads reaches the engine
 * one step after the worker made it (within the engine's default load failure window).
 *
 * @param copyFailRate probability that a copy fails, in [0, 1]
 * @param copyStallRate probability that a copy stalls first, in [0, 1]
 * @param stallMillis how long a stalled copy waits, 0 to 10 000 ms
 * @param hookThrowRate probability that a connector hook throws, in [0, 1]
 * @param lateErrorRate probability that a worker's report of failed loads is held back one step,
 *     in [0, 1]
 */
public record FaultPlan(
        double copyFailRate, double copyStallRate, int stallMillis, double hookThrowRate, double lateErrorRate) {
    /** No faults. */
    public static final FaultPlan NONE = new FaultPlan(0, 0, 0, 0, 0);

    private static final String KEYS = "copy_fail, copy_stall, stall_ms, hook_throw, late_errors";

    /** Validates. */
    public FaultPlan {
        requireRate("copy_fail", copyFailRate);
        requireRate("copy_stall", copyStallRate);
        requireRate("hook_throw", hookThrowRate);
        requireRate("late_errors", lateErrorRate);
        if (stallMillis < 0 || stallMillis > 10_000) {
            throw new ConfigException("--faults.stall_ms", stallMillis + " is out of range; allowed: [0, 10000]");
        }
    }

    /** A plan without late reports. */
    public FaultPlan(double copyFailRate, double copyStallRate, int stallMillis, double hookThrowRate) {
        this(copyFailRate, copyStallRate, stallMillis, hookThrowRate, 0);
    }

    /** Whether any fault is injected. */
    public boolean any() {
        return copyFailRate > 0 || copyStallRate > 0 || hookThrowRate > 0 || lateErrorRate > 0;
    }

    /**
     * Parses {@code copy_fail=0.02,copy_stall=0.01,stall_ms=5,hook_throw=0.001,late_errors=0.5};
     * omitted keys are 0 (stall_ms: 5). An empty text or {@code none} is {@link #NONE}.
     *
     * @throws ConfigException naming the key for an unknown key or a bad value
     */
    public static FaultPlan parse(String text) {
        String t = text.strip();
        if (t.isEmpty() || t.equalsIgnoreCase("none")) {
            return NONE;
        }
        double fail = 0;
        double stall = 0;
        double hook = 0;
        double late = 0;
        int stallMs = 5;
        for (String part : t.split(",")) {
            String[] kv = part.split("=", 2);
            String key = kv[0].strip().toLowerCase(Locale.ROOT);
            if (kv.length != 2) {
                throw new ConfigException("--faults", "'" + part.strip() + "' is not KEY=VALUE; allowed keys: " + KEYS);
            }
            String value = kv[1].strip();
            switch (key) {
                case "copy_fail" -> fail = number("--faults.copy_fail", value);
                case "copy_stall" -> stall = number("--faults.copy_stall", value);
                case "hook_throw" -> hook = number("--faults.hook_throw", value);
                case "late_errors" -> late = number("--faults.late_errors", value);
                case "stall_ms" -> stallMs = (int) Math.min(Integer.MAX_VALUE, number("--faults.stall_ms", value));
                default -> throw new ConfigException("--faults." + key, "unknown fault; allowed keys: " + KEYS);
            }
        }
        return new FaultPlan(fail, stall, stallMs, hook, late);
    }

    private static double number(String path, String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new ConfigException(path, "'" + value + "' is not a number");
        }
    }

    private static void requireRate(String key, double rate) {
        if (!(rate >= 0 && rate <= 1)) {
            throw new ConfigException("--faults." + key, rate + " is out of range; allowed: [0, 1]");
        }
    }

    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "copy_fail=%s,copy_stall=%s,stall_ms=%d,hook_throw=%s,late_errors=%s",
                copyFailRate,
                copyStallRate,
                stallMillis,
                hookThrowRate,
                lateErrorRate);
    }
}
