package io.kvconnect.disk;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.multi.MultiConnectorProvider;
import io.kvconnect.offload.OffloadConnectorProvider;
import io.kvconnect.testkit.FaultPlan;
import io.kvconnect.testkit.Soak;
import io.kvconnect.testkit.SoakReport;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's soak over the disk tier (the short CI soak): random streams with shared prefixes,
 * aborts and preemptions, failed and stalled copies, and the tier's own faults: writes that fail
 * as on a full disk, reads that fail, and files that read back corrupt. Each round is a fresh
 * engine on the same directory, so later rounds start warm from what earlier ones wrote.
 */
@Timeout(300)
class DiskSoakTest {
    @TempDir
    Path directory;

    @Test
    void failingCopiesAndDiskErrorsNeverChangeAnOutputOrLeakABlock() throws Exception {
        FailingBlockStore.Counts injected = new FailingBlockStore.Counts();
        var provider = new DiskConnectorProvider(FailingBlockStore.factory(0.05, 0.05, 0.05, injected));
        // Room for hundreds of block files (at least 8 KiB each: header and payload aligned to
        // 4 KiB), so that enough blocks are loaded back for the injected read faults to hit some: a
        // tier of a few dozen files loads a handful, and whether one failed is then luck.
        SoakReport report = Soak.of(provider, config("4MiB"))
                .faults(FaultPlan.parse("copy_fail=0.05,copy_stall=0.05,stall_ms=3,late_errors=0.5"))
                .rounds(12)
                .seed(21)
                .run();

        report.assertPassed();
        assertTrue(injected.writes.get() > 0 && injected.reads.get() + injected.corrupt.get() > 0, report.render());
        assertTrue(report.hitTokens() > 0 && report.blocksLoaded() > 0, report.render());
    }

    @Test
    void behindAHostTierInAMulti() throws Exception {
        List<ConnectorProvider> children = List.of(new OffloadConnectorProvider(), new DiskConnectorProvider());
        Map<String, Object> multi = Map.of(
                "connectors",
                List.of(
                        Map.of("name", "offload", "config", Map.of("capacity", "24KiB")),
                        Map.of("name", "disk", "config", config("1MiB"))));
        SoakReport report = Soak.of(new MultiConnectorProvider(), multi)
                .withProviders(children)
                .faults(FaultPlan.parse("copy_fail=0.05,late_errors=0.5"))
                .rounds(6)
                .seed(22)
                .run();

        report.assertPassed();
        assertTrue(report.hitTokens() > 0, report.render());
    }

    private Map<String, Object> config(String capacity) {
        return Map.of("directory", directory.toString(), "capacity", capacity, "staging_blocks", 16L);
    }
}
