package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.offload.OffloadConnectorProvider;
import io.kvconnect.testkit.FaultPlan;
import io.kvconnect.testkit.Soak;
import io.kvconnect.testkit.SoakReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The engine's soak over a multi of two host tiers, with failed and stalled copies (the short CI soak). */
@Timeout(300)
class MultiSoakTest {
    @Test
    void twoTiersUnderCopyFaultsNeverChangeAnOutputOrLeakABlock() throws Exception {
        Map<String, Object> config = Map.of(
                "connectors",
                List.of(
                        Map.of("name", "offload", "config", Map.of("capacity", "16KiB", "load", "sync")),
                        Map.of("name", "offload", "config", Map.of("capacity", "1MiB"))));
        SoakReport report = Soak.of(new MultiConnectorProvider(), config)
                .withProviders(List.of(new OffloadConnectorProvider()))
                .faults(FaultPlan.parse("copy_fail=0.05,copy_stall=0.05,stall_ms=3,late_errors=0.5"))
                .rounds(12)
                .seed(21)
                .run();

        report.assertPassed();
        assertTrue(report.faultsInjected().keySet().stream().anyMatch(k -> k.startsWith("copy_fail")), report.render());
    }
}
