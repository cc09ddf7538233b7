package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.offload.OffloadConnectorProvider;
import io.kvconnect.testkit.ConformanceResult;
import io.kvconnect.testkit.ConnectorConformance;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Compositions run through the engine's conformance kit: outputs equal to the run without a
 * connector (sync and async scheduling, one and two workers), no wrong KV read, nothing held
 * afterwards, {@code requestFinished} once per request, aborts at random points, and no hook
 * failure (the probe turns every rule it checks into a hook failure).
 */
class MultiConformanceTest {
    private static final List<ConnectorProvider> CHILDREN =
            List.of(new OffloadConnectorProvider(), new ProbeConnectorProvider());

    private static Map<String, Object> child(String name, Map<String, Object> config) {
        return Map.of("name", name, "config", config);
    }

    private static Map<String, Object> multi(Object... children) {
        return Map.of("connectors", List.of(children));
    }

    private static void assertConforms(Map<String, Object> config) {
        ConnectorConformance.of(new MultiConnectorProvider(), config)
                .withProviders(CHILDREN)
                .run()
                .assertPassed();
    }

    @Test
    void theProbeAloneConforms() {
        // The probe loads nothing: a pass-through for the kit.
        ConnectorConformance.of(new ProbeConnectorProvider(), Map.of("delay_steps", 2L, "ask_later", true))
                .passThrough()
                .run()
                .assertPassed();
        ConnectorConformance.of(new ProbeConnectorProvider(), Map.of("expected_finished_count", 1L))
                .passThrough()
                .run()
                .assertPassed();
    }

    @Test
    void twoHostTiersASmallFastOneAndALargerOne() {
        // The small tier (a few blocks, synchronous loads) evicts constantly; the larger one keeps more.
        assertConforms(multi(
                child("offload", Map.of("capacity", "16KiB", "load", "sync")),
                child("offload", Map.of("capacity", "4MiB", "eviction", "arc"))));
    }

    @Test
    void twoAsynchronousHostTiersComposingTheirHits() {
        // The same mode in both tiers: a load takes the small tier's run and the larger tier's run
        // after it in one step, each child loading its own blocks.
        assertConforms(multi(
                child("offload", Map.of("capacity", "16KiB")),
                child("offload", Map.of("capacity", "4MiB", "eviction", "arc"))));
    }

    @Test
    void twoSynchronousHostTiersComposingTheirHitsWithDifferentOffloadedBlockSizes() {
        assertConforms(multi(
                child("offload", Map.of("capacity", "16KiB", "load", "sync")),
                child("offload", Map.of("capacity", "4MiB", "load", "sync", "block_multiple", 2L))));
    }

    @Test
    void twoHostTiersTheOtherWayRound() {
        assertConforms(multi(
                child("offload", Map.of("capacity", "4MiB")),
                child("offload", Map.of("capacity", "24KiB", "load", "sync", "store_threshold", 1L))));
    }

    @Test
    void offloadWithATestConnectorThatDelaysEveryFreeAndAsksLater() {
        assertConforms(multi(
                child("offload", Map.of("capacity", "4MiB")),
                child("probe", Map.of("delay_steps", 2L, "ask_later", true))));
    }

    @Test
    void aTestConnectorFirstWhoseSendsAreReportedByOneWorker() {
        // Children need different numbers of reports: the composite counts them itself (relay mode).
        assertConforms(multi(
                child("probe", Map.of("expected_finished_count", 1L, "delay_steps", 0L)),
                child("offload", Map.of("capacity", "4MiB", "load", "sync"))));
    }

    @Test
    void twoChildrenDelayingFreesFinishingAtDifferentTimes() {
        // Each probe checks that it is told of a finished send only after its own workers reported it.
        ConnectorConformance.of(
                        new MultiConnectorProvider(),
                        multi(child("probe", Map.of("delay_steps", 0L)), child("probe", Map.of("delay_steps", 3L))))
                .withProviders(CHILDREN)
                .passThrough()
                .run()
                .assertPassed();
    }

    @Test
    void twoChildrenDelayingFreesWithDifferentReportCounts() {
        assertConforms(multi(
                child("probe", Map.of("delay_steps", 3L, "expected_finished_count", 1L)),
                child("offload", Map.of("capacity", "16KiB")),
                child("probe", Map.of("delay_steps", 1L))));
    }

    @Test
    void nestedComposites() {
        assertConforms(multi(
                child("multi", multi(child("offload", Map.of("capacity", "16KiB")), child("probe", Map.of()))),
                child("offload", Map.of("capacity", "4MiB", "load", "sync"))));
    }

    @Test
    void aSingleChild() {
        assertConforms(multi(child("offload", Map.of("capacity", "24KiB"))));
    }

    @Test
    void aThrowingChildNeitherLeaksNorStallsNorCorruptsTheOthers() {
        // The probe throws from every fifth call of these hooks. The kit must find the hook
        // failures (the composite reports them, naming the child) and nothing else: no wrong KV
        // read, nothing held or leaked, no stuck request, requestFinished once per request. Had the
        // composite thrown from buildConnectorMetadata, the engine would have dropped offload's
        // orders of that step too, and offload would wait forever for stores no worker started.
        ConformanceResult result = ConnectorConformance.of(
                        new MultiConnectorProvider(),
                        multi(
                                child("offload", Map.of("capacity", "4MiB")),
                                child(
                                        "probe",
                                        Map.of(
                                                "throw_in",
                                                List.of(
                                                        "buildConnectorMetadata",
                                                        "requestFinished",
                                                        "takeStats",
                                                        "reportStep"),
                                                "every",
                                                5L))))
                .withProviders(CHILDREN)
                .run();
        assertTrue(result.scenarios().stream().filter(s -> !s.passed()).count() >= 10, result.summary());
        for (ConformanceResult.Scenario s : result.scenarios()) {
            assertTrue(s.passed() || s.detail().matches("[1-9][0-9]* connector hook\\(s\\) threw"), result.summary());
        }
    }

    @Test
    void aBadChildConfigurationFailsEveryScenarioNamingTheField() {
        ConformanceResult result = ConnectorConformance.of(
                        new MultiConnectorProvider(),
                        multi(child("offload", Map.of("capacity", "4MiB")), child("ofload", Map.of())))
                .withProviders(CHILDREN)
                .run();
        assertFalse(result.passed());
        assertTrue(
                result.summary()
                        .contains("connector.config.connectors[1].name: unknown connector 'ofload'; "
                                + "available: multi, offload, probe"),
                result.summary());
    }

    @Test
    void theKitRefusesTwoProvidersWithOneName() {
        assertThrows(
                IllegalArgumentException.class, () -> ConnectorConformance.of(new MultiConnectorProvider(), Map.of())
                        .withProviders(List.of(new OffloadConnectorProvider(), new OffloadConnectorProvider())));
    }
}
