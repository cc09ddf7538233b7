package io.kvconnect.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A short soak of the engine's test connector, with and without faults (the CI soak). */
@Timeout(120)
class SoakTest {
    @Test
    void withoutFaultsEveryRequestFinishesWithTheFaultFreeOutputOrIsAborted() throws Exception {
        SoakReport report = Soak.of(
                        provider(() ->
                                TestConnectorConfig.builder().asyncLoads(2).build()),
                        Map.of())
                .rounds(8)
                .seed(3)
                .run();

        report.assertPassed();
        assertEquals(8, report.rounds());
        assertEquals(8 * 24, report.requests());
        assertEquals(report.requests(), report.finishedOk() + report.aborted() + report.failed());
        assertTrue(report.aborted() > 0, "the soak aborts requests: " + report.render());
        assertTrue(report.faultsInjected().isEmpty());
    }

    @Test
    void copyFaultsAreRecoveredOrFailWithAReasonNeverWithWrongOutput() throws Exception {
        SoakReport report = Soak.of(
                        provider(() ->
                                TestConnectorConfig.builder().asyncLoads(2).build()),
                        Map.of())
                .faults(FaultPlan.parse("copy_fail=0.2,copy_stall=0.1,stall_ms=2"))
                .rounds(8)
                .seed(5)
                .run();

        report.assertPassed();
        assertTrue(report.faultsInjected().keySet().stream().anyMatch(k -> k.startsWith("copy_fail")), report.render());
        assertTrue(report.recomputed() + report.failed() > 0, "failed loads were handled: " + report.render());
    }

    @Test
    void failedLoadsReportedAStepLateNeverChangeAnOutput() throws Exception {
        // Synchronous loads, every other block's load failing once: reported a step late, what the
        // loaders computed from them must never reach an output, the prefix cache or the connector.
        SoakReport report = Soak.of(
                        provider(() -> TestConnectorConfig.builder()
                                .loadMode(TestConnectorConfig.LoadMode.SYNC_START)
                                .savesConfirmedOnly()
                                .failLoads((id, block) -> block % 2 == 1, TestConnectorConfig.FailMode.GARBAGE)
                                .build()),
                        Map.of())
                .faults(FaultPlan.parse("late_errors=1"))
                .rounds(8)
                .seed(9)
                .run();

        report.assertPassed();
        assertTrue(report.faultsInjected().getOrDefault("late_errors", 0L) > 0, report.render());
        assertTrue(report.recomputed() + report.failed() > 0, "failed loads were handled: " + report.render());
        assertTrue(report.hitTokens() > 0, report.render());
    }

    @Test
    void throwingHooksDisableTheConnectorAndTheRoundGoesOn() throws Exception {
        SoakReport report = Soak.of(
                        provider(() ->
                                TestConnectorConfig.builder().asyncLoads(2).build()),
                        Map.of())
                .faults(FaultPlan.parse("hook_throw=0.01"))
                .rounds(6)
                .seed(7)
                .run();

        report.assertPassed();
        assertTrue(report.hookFailures() > 0, report.render());
        assertTrue(report.connectorDisabledRounds() > 0, report.render());
    }

    @Test
    void aConnectorThatLoadsWrongKvSilentlyFailsTheSoak() throws Exception {
        SoakReport report = Soak.of(
                        provider(() -> TestConnectorConfig.builder()
                                .loadMode(TestConnectorConfig.LoadMode.SYNC_START)
                                .failLoads((id, block) -> true, TestConnectorConfig.FailMode.SILENT_GARBAGE)
                                .build()),
                        Map.of())
                .rounds(2)
                .run();

        assertFalse(report.passed(), report.render());
        assertTrue(report.render().contains("had wrong content and their output was used"), report.render());
        assertThrows(AssertionError.class, report::assertPassed);
    }

    @Test
    void faultPlansParseAndRefuseBadValuesNamingTheKey() {
        FaultPlan p = FaultPlan.parse("copy_fail=0.1, stall_ms=7,copy_stall=0.2,hook_throw=0.001");
        assertEquals(new FaultPlan(0.1, 0.2, 7, 0.001), p);
        assertEquals(FaultPlan.NONE, FaultPlan.parse("none"));
        assertEquals(FaultPlan.NONE, FaultPlan.parse(""));
        assertEquals(
                "--faults.copy_fail",
                assertThrows(ConfigException.class, () -> FaultPlan.parse("copy_fail=2"))
                        .path());
        assertEquals(
                "--faults.copy_fial",
                assertThrows(ConfigException.class, () -> FaultPlan.parse("copy_fial=0.1"))
                        .path());
        assertEquals(
                "--faults.hook_throw",
                assertThrows(ConfigException.class, () -> FaultPlan.parse("hook_throw=lots"))
                        .path());
        assertEquals(
                "--faults",
                assertThrows(ConfigException.class, () -> FaultPlan.parse("copy_fail"))
                        .path());
    }

    private static ConnectorProvider provider(Supplier<TestConnectorConfig> config) {
        return TestProviders.hostCache(config);
    }
}
