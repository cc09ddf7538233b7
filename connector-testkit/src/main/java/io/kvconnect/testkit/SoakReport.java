package io.kvconnect.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a {@link Soak} tried and what came of it.
 *
 * @param connector the connector's name
 * @param faults the fault plan
 * @param rounds engines run (each with a fresh connector)
 * @param requests requests submitted
 * @param finishedOk requests that finished normally, each with exactly the fault-free run's output
 * @param aborted requests aborted by the soak (their tokens a prefix of the fault-free output)
 * @param failed requests failed by the engine, with a reason (tokens a prefix of the fault-free output)
 * @param recomputed requests whose failed load was recomputed locally
 * @param faultsInjected faults injected, by kind ({@code copy_fail:to_host}, {@code hook_throw:startLoadKv}, ...)
 * @param hookFailures connector hook calls that threw, as the engine counted them
 * @param connectorDisabledRounds rounds in which the engine disabled the connector after a hook failure
 * @param reclaimedConnectorReferences GPU block references the connector still held at shutdown,
 *     returned by the engine (zero unless hooks were made to throw)
 * @param discardedWrongReads wrong KV read in steps whose output was discarded (harmless)
 * @param leakRounds rounds after which a block or request was still held (must be zero)
 * @param crashes rounds that ended with an exception out of the engine (must be zero)
 * @param problems what went wrong: stuck requests, leaked blocks, wrong outputs, used wrong KV,
 *     crashes (at most the first 50)
 * @param hitTokens tokens the connector provided beyond the GPU prefix cache, over all rounds
 * @param blocksLoaded blocks copied into the GPU cache (per worker), over all rounds
 * @param blocksStored blocks copied out of the GPU cache (per worker), over all rounds
 */
public record SoakReport(
        String connector,
        FaultPlan faults,
        int rounds,
        long requests,
        long finishedOk,
        long aborted,
        long failed,
        long recomputed,
        Map<String, Long> faultsInjected,
        long hookFailures,
        int connectorDisabledRounds,
        long reclaimedConnectorReferences,
        long discardedWrongReads,
        int leakRounds,
        int crashes,
        List<String> problems,
        long hitTokens,
        long blocksLoaded,
        long blocksStored) {
    /** Copies. */
    public SoakReport {
        faultsInjected = Map.copyOf(faultsInjected);
        problems = List.copyOf(problems);
    }

    /** Whether nothing went wrong. */
    public boolean passed() {
        return problems.isEmpty() && crashes == 0 && leakRounds == 0;
    }

    /** Throws {@link AssertionError} with {@link #render()} unless {@link #passed()}. */
    public void assertPassed() {
        if (!passed()) {
            throw new AssertionError("the soak found problems:\n" + render());
        }
    }

    /** A plain-text report, one fact per line. */
    public String render() {
        List<String> lines = new ArrayList<>();
        lines.add("soak of connector '" + connector + "', faults " + faults);
        lines.add(String.format(
                Locale.ROOT,
                "  rounds %d, requests %d: %d finished with the fault-free output, "
                        + "%d aborted, %d failed with a reason, %d recomputed after a failed load",
                rounds,
                requests,
                finishedOk,
                aborted,
                failed,
                recomputed));
        lines.add(String.format(
                Locale.ROOT,
                "  exercised: %d connector hit tokens, %d blocks loaded, %d stored",
                hitTokens,
                blocksLoaded,
                blocksStored));
        long total = faultsInjected.values().stream().mapToLong(Long::longValue).sum();
        lines.add(
                "  faults injected: " + total + (faultsInjected.isEmpty() ? "" : " " + new TreeMap<>(faultsInjected)));
        lines.add("  hook failures counted by the engine: " + hookFailures + "; connector disabled in "
                + connectorDisabledRounds + " round(s)");
        lines.add("  connector references reclaimed at shutdown: " + reclaimedConnectorReferences);
        lines.add("  wrong KV reads in discarded steps (harmless): " + discardedWrongReads);
        lines.add("  rounds that leaked blocks or left requests: " + leakRounds + "; crashes: " + crashes);
        lines.add(passed() ? "  result: PASSED" : "  result: FAILED (" + problems.size() + " problem(s))");
        for (String p : problems) {
            lines.add("  - " + p);
        }
        return String.join("\n", lines);
    }
}
