package io.kvconnect.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The kit passes a working connector and fails broken ones, naming the scenario. */
class ConformanceKitTest {
    @Test
    void aWorkingConnectorWithAsynchronousLoadsPasses() {
        ConformanceResult result = ConnectorConformance.of(
                        provider(() ->
                                TestConnectorConfig.builder().asyncLoads(2).build()),
                        Map.of())
                .run();

        assertTrue(result.passed(), result.summary());
        assertEquals(19, result.scenarios().size());
        // Each scenario says what it exercised: the output scenarios loaded and stored blocks.
        ConformanceResult.Scenario first = result.scenarios().getFirst();
        assertTrue(
                first.exercised().hitTokens() > 0
                        && first.exercised().blocksLoaded() > 0
                        && first.exercised().blocksStored() > 0,
                first.toString());
        assertTrue(result.summary().contains("exercised: "), result.summary());
    }

    @Test
    void aStorageConnectorThatNeverLoadsFailsUnlessDeclaredAPassThrough() {
        ConnectorProvider neverLoads = provider(() -> TestConnectorConfig.builder()
                .loadMode(TestConnectorConfig.LoadMode.NONE)
                .build());
        ConformanceResult result = ConnectorConformance.of(neverLoads, Map.of()).run();
        assertFalse(result.passed(), result.summary());
        assertEquals(1, result.scenarios().stream().filter(sc -> !sc.passed()).count(), result.summary());
        assertTrue(result.summary().contains("FAIL  the connector served loads"), result.summary());

        assertTrue(ConnectorConformance.of(neverLoads, Map.of())
                .passThrough()
                .run()
                .passed());
    }

    @Test
    void aWorkingConnectorWithSynchronousLoadsAndDelayedFreesPasses() {
        ConformanceResult result = ConnectorConformance.of(
                        provider(() -> TestConnectorConfig.builder()
                                .loadMode(TestConnectorConfig.LoadMode.SYNC_LAYER)
                                .delayFree(1)
                                .build()),
                        Map.of())
                .run();

        assertTrue(result.passed(), result.summary());
    }

    @Test
    void aConnectorThatLoadsWrongKvSilentlyFailsTheOutputScenarios() {
        ConformanceResult result = ConnectorConformance.of(
                        provider(() -> TestConnectorConfig.builder()
                                .loadMode(TestConnectorConfig.LoadMode.SYNC_START)
                                .failLoads((id, block) -> true, TestConnectorConfig.FailMode.SILENT_GARBAGE)
                                .build()),
                        Map.of())
                .run();

        assertFalse(result.passed());
        assertTrue(result.summary().contains("FAIL  outputs equal the run without the connector"), result.summary());
        AssertionError e = assertThrows(AssertionError.class, result::assertPassed);
        assertTrue(e.getMessage().contains("does not conform"), e.getMessage());
    }

    @Test
    void aConnectorWhoseHookThrowsFails() {
        ConformanceResult result = ConnectorConformance.of(
                        provider(() -> TestConnectorConfig.builder()
                                .asyncLoads(1)
                                .throwing(TestConnectorConfig.ThrowSpec.schedulerOnce("buildConnectorMetadata", null))
                                .build()),
                        Map.of())
                .run();

        assertFalse(result.passed(), result.summary());
        assertTrue(result.summary().contains("connector hook(s) threw"), result.summary());
    }

    @Test
    void aWorkerReportingTransfersTwiceFailsTheKitNamingTheRequestAndTheRank() {
        // Every finished send and receive is reported a second time by the same rank in its next report.
        ConformanceResult result = ConnectorConformance.of(
                        provider(() -> TestConnectorConfig.builder()
                                .asyncLoads(1)
                                .delayFree(1)
                                .duplicateReports(1)
                                .build()),
                        Map.of())
                .run();

        assertFalse(result.passed(), result.summary());
        assertTrue(
                result.summary()
                        .matches("(?s).*worker \\d+ reported request \\S+ in finished (sends|receives) " + "2 times.*"),
                result.summary());
    }

    @Test
    void aWorkerReportingRequestsItNeverSawFailsTheKit() {
        ConformanceResult result = ConnectorConformance.of(
                        provider(() -> TestConnectorConfig.builder()
                                .asyncLoads(1)
                                .unknownReports(1)
                                .build()),
                        Map.of())
                .run();

        assertFalse(result.passed(), result.summary());
        assertTrue(
                result.summary().contains("in finished receives, but the engine granted it no asynchronous load"),
                result.summary());
        assertTrue(
                result.summary().contains("in finished sends, but requestFinished did not delay its free"),
                result.summary());
    }

    private static ConnectorProvider provider(Supplier<TestConnectorConfig> config) {
        return TestProviders.hostCache(config);
    }
}
