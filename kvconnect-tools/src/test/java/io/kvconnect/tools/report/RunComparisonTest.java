package io.kvconnect.tools.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.run.RunFigures;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The short side-by-side of two runs and the line that says what the connector saved. */
class RunComparisonTest {
    /** A run with the connector: fewer prefill tokens, a faster median, copies both ways. */
    private static Figures withConnector() {
        Figures f = new Figures();
        f.prefixQueries = 10_000;
        f.prefixHits = 5_000;
        f.connectorQueries = 5_000;
        f.connectorHits = 3_000;
        f.prefill = 2_000;
        f.computed = 2_500;
        f.p50 = 0.01535;
        f.p99 = 0.1599;
        f.toHost = 6_594_560;
        f.fromHost = 1536;
        return f;
    }

    /** The same workload without it. */
    private static Figures without() {
        Figures f = new Figures();
        f.prefixQueries = 10_000;
        f.prefixHits = 4_900;
        f.prefill = 5_100;
        f.computed = 5_600;
        f.p50 = 0.01811;
        f.p99 = 0.32694;
        return f;
    }

    private static RunComparison compare(Figures with, Figures without, boolean identical) {
        return RunComparison.of(
                new RunColumn("connector offload", with.build()),
                new RunColumn("baseline", without.build()),
                identical);
    }

    private static Map<String, List<String>> rows(RunComparison c) {
        return c.rows().stream().collect(Collectors.toMap(RunComparison.Row::name, RunComparison.Row::values));
    }

    @Test
    void eachColumnShowsItsOwnRunsFigures() {
        Map<String, List<String>> rows = rows(compare(withConnector(), without(), true));

        assertEquals(List.of("50.0%", "49.0%"), rows.get(RunComparison.PREFIX_HIT_RATE));
        assertEquals(List.of("60.0%", "-"), rows.get(RunComparison.CONNECTOR_HIT_RATE), "nothing asked of none");
        assertEquals(List.of("15.35", "18.11"), rows.get(RunComparison.TTFT_P50));
        assertEquals(List.of("159.90", "326.94"), rows.get(RunComparison.TTFT_P99));
        assertEquals(List.of("2,000", "5,100"), rows.get(RunComparison.PREFILL_COMPUTED));
        assertEquals(List.of("2,500", "5,600"), rows.get(RunComparison.ALL_COMPUTED));
        assertEquals(List.of("6.29 MiB", "0 B"), rows.get(RunComparison.TO_HOST));
        assertEquals(List.of("1.50 KiB", "0 B"), rows.get(RunComparison.FROM_HOST));
        assertEquals(List.of("yes", ""), rows.get(RunComparison.OUTPUTS_IDENTICAL));
        assertEquals(List.of("OK", "OK"), rows.get(RunComparison.KV_VERIFICATION));
    }

    @Test
    void swappingTheRunsSwapsTheColumns() {
        Map<String, List<String>> rows = rows(RunComparison.of(
                new RunColumn("a", without().build()),
                new RunColumn("b", withConnector().build()),
                true));

        assertEquals(List.of("5,100", "2,000"), rows.get(RunComparison.PREFILL_COMPUTED));
        assertEquals(List.of("18.11", "15.35"), rows.get(RunComparison.TTFT_P50));
    }

    @Test
    void theTableAlignsEveryRowUnderTheRunsLabels() {
        List<String> lines =
                compare(withConnector(), without(), true).table().lines().toList();

        assertTrue(lines.getFirst().matches(" +connector offload +baseline"), lines.getFirst());
        assertEquals(1 + 10, lines.size(), String.join("\n", lines));
        for (String line : lines.subList(1, lines.size())) {
            assertEquals(lines.getFirst().length(), line.length(), line);
        }
    }

    @Test
    void theSavedLineNamesTheConnectorTheSavingTheMedianBeforeAndAfterAndTheChecks() {
        assertEquals(
                Optional.of("offload saved 61% of prefill tokens (2,000 instead of 5,100) and cut TTFT p50 "
                        + "from 18.11 ms to 15.35 ms; outputs identical; KV verified"),
                compare(withConnector(), without(), true).savedLine("offload"));
    }

    @Test
    void differentOutputsShowInTheTableAndTheSavedLine() {
        RunComparison c = compare(withConnector(), without(), false);

        assertEquals(List.of("NO", ""), rows(c).get(RunComparison.OUTPUTS_IDENTICAL));
        assertTrue(
                c.savedLine("offload").orElseThrow().endsWith("; outputs DIFFER; KV verified"),
                c.savedLine("offload").orElseThrow());
    }

    @Test
    void theSavedLineSaysSoWhenTheMedianRoseOrNothingWasSavedOrVerificationFailed() {
        Figures slower = withConnector();
        slower.p50 = 0.0200;
        assertEquals(
                "offload saved 61% of prefill tokens (2,000 instead of 5,100) but TTFT p50 rose from 18.11 ms "
                        + "to 20.00 ms; outputs identical; KV verified",
                compare(slower, without(), true).savedLine("offload").orElseThrow());

        Figures nothing = without();
        assertEquals(
                "hello saved no prefill tokens (5,100 computed either way) and TTFT p50 stayed at 18.11 ms; "
                        + "outputs identical; KV verified",
                compare(nothing, without(), true).savedLine("hello").orElseThrow());

        Figures more = without();
        more.prefill = 5_355;
        more.p50 = 0.019;
        more.verification = RunFigures.Verification.FAILED;
        assertEquals(
                "bad computed 5% more prefill tokens (5,355 instead of 5,100) and TTFT p50 rose from 18.11 ms "
                        + "to 19.00 ms; outputs identical; KV verification FAILED",
                compare(more, without(), true).savedLine("bad").orElseThrow());

        Figures unverified = withConnector();
        unverified.verification = RunFigures.Verification.OFF;
        assertTrue(compare(unverified, without(), true)
                .savedLine("offload")
                .orElseThrow()
                .endsWith("; KV not verified (verify_kv off)"));
    }

    @Test
    void oneRunHasNoSavedLineAndNoIdentityRow() {
        RunComparison one = RunComparison.of(
                new RunColumn("connector offload", withConnector().build()));

        assertEquals(Optional.empty(), one.savedLine("offload"));
        assertTrue(one.rows().stream().noneMatch(r -> r.name().equals(RunComparison.OUTPUTS_IDENTICAL)));
        assertTrue(one.rows().stream().allMatch(r -> r.values().size() == 1));
    }

    @Test
    void theIdentityOfOutputsIsKnownExactlyWithTwoRuns() {
        RunColumn a = new RunColumn("a", without().build());

        assertThrows(IllegalArgumentException.class, () -> new RunComparison(List.of(a), Optional.of(true)));
        assertThrows(IllegalArgumentException.class, () -> new RunComparison(List.of(a, a), Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> new RunComparison(List.of(), Optional.empty()));
    }

    @Test
    void bytesAreInBinaryUnitsAndExactBelowAKibibyte() {
        assertEquals("0 B", RunComparison.bytes(0));
        assertEquals("1023 B", RunComparison.bytes(1023));
        assertEquals("1.00 KiB", RunComparison.bytes(1024));
        assertEquals("2.00 GiB", RunComparison.bytes(2L << 30));
    }
}
