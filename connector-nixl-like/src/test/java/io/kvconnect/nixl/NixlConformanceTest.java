package io.kvconnect.nixl;

import io.kvconnect.testkit.ConnectorConformance;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The engine's conformance kit on a single engine: without transfer parameters the connector
 * must change nothing (outputs, aborts, failed copies) and leave nothing behind.
 */
class NixlConformanceTest {
    @Test
    void passesTheConformanceKit() {
        // Alone in one engine it moves no KV: a pass-through for the kit.
        ConnectorConformance.of(new NixlConnectorProvider(), Map.of("role", "both", "secret", "conformance-secret"))
                .passThrough()
                .run()
                .assertPassed();
    }
}
