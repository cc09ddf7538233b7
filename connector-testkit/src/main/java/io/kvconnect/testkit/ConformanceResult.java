package io.kvconnect.testkit;

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
     * @param exercised what the runs with the connector did, so an author sees when a scenario did
     *     not reach their code
     */
    public record Scenario(String name, boolean passed, String detail, Exercised exercised) {
        /** Checks. */
        public Scenario {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(detail, "detail");
            Objects.requireNonNull(exercised, "exercised");
        }
    }

    /**
     * What a scenario's runs with the connector exercised, summed over them.
     *
     * @param hitTokens tokens the connector provided beyond the GPU prefix cache
     * @param blocksLoaded blocks copied from host memory into the GPU cache (per worker)
     * @param blocksStored blocks copied out of the GPU cache (per worker)
     * @param preemptions requests preempted by recomputation
     * @param loadFailures requests hit by a failed load
     * @param evictions blocks the connector's removed-block events announced
     * @param blocksHeldPastEnd GPU blocks the connector still held (a reference or a delayed free)
     *     when their request ended: blocks a tight pool would otherwise have handed out again
     *     while a copy of them was queued
     * @param slotReuses host slots stored into again after an earlier store (worker 0): when a
     *     load still reading the slot would see the wrong content
     */
    public record Exercised(
            long hitTokens,
            long blocksLoaded,
            long blocksStored,
            long preemptions,
            long loadFailures,
            long evictions,
            long blocksHeldPastEnd,
            long slotReuses) {
        /** Nothing. */
        public static final Exercised NONE = new Exercised(0, 0, 0, 0, 0, 0, 0, 0);

        /** The sum of both. */
        public Exercised plus(Exercised o) {
            return new Exercised(
                    hitTokens + o.hitTokens,
                    blocksLoaded + o.blocksLoaded,
                    blocksStored + o.blocksStored,
                    preemptions + o.preemptions,
                    loadFailures + o.loadFailures,
                    evictions + o.evictions,
                    blocksHeldPastEnd + o.blocksHeldPastEnd,
                    slotReuses + o.slotReuses);
        }

        @Override
        public String toString() {
            return hitTokens + " hit tokens, " + blocksLoaded + " blocks loaded, " + blocksStored + " stored, "
                    + preemptions + " preemptions, " + loadFailures + " load failures, " + evictions
                    + " evictions, " + blocksHeldPastEnd + " GPU blocks held past their request, " + slotReuses
                    + " host slots reused";
        }
    }

    /** What every scenario exercised, summed. */
    public Exercised exercised() {
        Exercised all = Exercised.NONE;
        for (Scenario s : scenarios) {
            all = all.plus(s.exercised());
        }
        return all;
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
            sb.append("\n      exercised: ").append(s.exercised());
            sb.append('\n');
        }
        long failed = scenarios.stream().filter(s -> !s.passed()).count();
        sb.append(scenarios.size() - failed)
                .append(" of ")
                .append(scenarios.size())
                .append(" scenarios passed\n");
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
