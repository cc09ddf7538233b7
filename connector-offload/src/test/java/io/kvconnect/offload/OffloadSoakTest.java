package io.kvconnect.offload;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.testkit.FaultPlan;
import io.kvconnect.testkit.Soak;
import io.kvconnect.testkit.SoakReport;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The engine's soak over the offload tier (the short CI soak; {@code ./kvconnect soak} runs long
 * ones): random streams with shared prefixes, aborts and preemptions, with failed and stalled
 * copies, and with hooks that throw.
 */
@Timeout(300)
class OffloadSoakTest {
    @Test
    void failedAndStalledCopiesNeverChangeAnOutputOrLeakABlock() throws Exception {
        SoakReport report = Soak.of(new OffloadConnectorProvider(), Map.of("capacity", "24KiB", "eviction", "arc"))
                .faults(FaultPlan.parse("copy_fail=0.05,copy_stall=0.05,stall_ms=3,late_errors=0.5"))
                .rounds(16)
                .seed(11)
                .run();

        report.assertPassed();
        assertTrue(report.faultsInjected().keySet().stream().anyMatch(k -> k.startsWith("copy_fail")), report.render());
        assertTrue(report.hitTokens() > 0 && report.blocksLoaded() > 0, report.render());
    }

    @Test
    void throwingHooksDisableTheTierWithoutLeaks() throws Exception {
        SoakReport report = Soak.of(new OffloadConnectorProvider(), Map.of("capacity", "1MiB", "load", "sync"))
                .faults(FaultPlan.parse("hook_throw=0.002"))
                .rounds(8)
                .seed(12)
                .run();

        report.assertPassed();
        assertTrue(report.hookFailures() > 0, report.render());
    }
}
