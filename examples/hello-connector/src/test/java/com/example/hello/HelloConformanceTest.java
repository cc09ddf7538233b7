package com.example.hello;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.testkit.ConformanceResult;
import io.kvconnect.testkit.ConnectorConformance;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs the engine's conformance kit against the {@code hello} connector: a real, small engine run
 * with and without the connector (synchronous and asynchronous scheduling, one and two workers),
 * then random aborts. The connector moves no KV (a pass-through, as the kit is told), so every output
 * must equal the run without it, and
 * no block, request or reference may be left behind.
 */
class HelloConformanceTest {
    @Test
    void conformsToTheConnectorContract() {
        ConnectorConformance.of(new HelloConnectorProvider(), Map.of("label", "conformance")).passThrough().run()
                .assertPassed();
    }

    /** The kit hands the configuration to the provider: a misspelt key fails every scenario, naming it. */
    @Test
    void theKitPassesTheConfigurationToTheConnector() {
        ConformanceResult result = ConnectorConformance.of(new HelloConnectorProvider(), Map.of("lable", "x")).run();

        assertFalse(result.passed(), result.summary());
        assertFalse(result.scenarios().isEmpty(), result.summary());
        assertTrue(result.scenarios().stream().noneMatch(ConformanceResult.Scenario::passed), result.summary());
        assertTrue(result.summary().contains("connector.config.lable: unknown key; allowed keys: [label]"),
                result.summary());
    }
}
