package io.kvconnect.core.conformance;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of a conformance run: one line per scenario.
 *
 * @param scenarios every scenario run, in order
 */
public record ConformanceResult(List<Scenario> scenarios) {
    /** Copies. */
    public ConformanceResult {
        scenarios = List.copyOf(scenarios);
    }

    /**
     * One scenario's outcome.
     *
     * @param name what the scenario checks
     * @param passed whether it passed
     * @param detail why it failed (empty when it passed)
     */
    public record Scenario(String name, boolean passed, String detail) {
        /** Checks. */
        public Scenario {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(detail, "detail");
        }
    }

    /** Whether every scenario passed. */
    public boolean passed() {
        return scenarios.stream().allMatch(Scenario::passed);
    }

    /** A readable summary, one line per scenario. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        for (Scenario s : scenarios) {
            sb.append(s.passed() ? "pass  " : "FAIL  ").append(s.name());
            if (!s.passed()) {
                sb.append(": ").append(s.detail());
            }
            sb.append('\n');
        }
        long failed = scenarios.stream().filter(s -> !s.passed()).count();
        sb.append(scenarios.size() - failed).append(" of ").append(scenarios.size()).append(" scenarios passed\n");
        return sb.toString();
    }

    /**
     * Throws if a scenario failed; for use in a connector's own tests.
     *
     * @throws AssertionError with the summary
     */
    public void assertPassed() {
        if (!passed()) {
            throw new AssertionError("the connector does not conform:\n" + summary());
        }
    }
}
