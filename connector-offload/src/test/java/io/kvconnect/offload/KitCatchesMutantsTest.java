package io.kvconnect.offload;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.testkit.ConformanceResult;
import io.kvconnect.testkit.ConnectorConformance;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The conformance kit fails a deliberately broken variant of the offload connector. */
class KitCatchesMutantsTest {
    @Test
    void withoutItsGpuBlockHoldTheStalledStoreScenarioFails() {
        ConformanceResult result = ConnectorConformance.of(new WithoutGpuHoldProvider(), Map.of("capacity", "4MiB"))
                .run();
        assertFalse(result.passed(), result.summary());
        assertTrue(
                result.scenarios().stream()
                        .anyMatch(s -> !s.passed() && s.name().startsWith("stores stalled")),
                result.summary());
        // The engine refuses a store of a block freed before it ran, so the mutant's missing hold shows as
        // refused copies rather than as wrong KV served later.
        assertTrue(result.summary().contains("of blocks freed before the copy ran"), result.summary());
    }
}
