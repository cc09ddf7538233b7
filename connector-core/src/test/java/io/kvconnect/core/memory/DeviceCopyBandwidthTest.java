package io.kvconnect.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.memory.DeviceCopyBandwidth.Plan;
import io.kvconnect.core.memory.DeviceCopyBandwidth.Result;
import io.kvconnect.core.memory.DeviceCopyBandwidth.Way;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CUDA copy bandwidth measurement on the host fake of the CUDA calls: it runs every case,
 * counts the copy service's calls after coalescing, and frees what it allocated. How fast it is
 * is not checked (that needs a device).
 */
class DeviceCopyBandwidthTest {
    private static final Plan SMALL = new Plan(
            List.of(16, 64),
            List.of(1, 4),
            List.of(LayoutKind.CROSS_LAYER, LayoutKind.PER_LAYER),
            List.of(Way.values()),
            1,
            3);

    @Test
    void measuresEveryCaseWithCoalescedCallsAndFreesItsMemory() throws Exception {
        HostFakeCudaCalls calls = new HostFakeCudaCalls();

        List<Result> results = DeviceCopyBandwidth.measure(SMALL, device -> calls);

        assertEquals(2 * 2 * 2 * 3, results.size());
        for (Result r : results) {
            assertTrue(r.serviceGBps() > 0 && Double.isFinite(r.serviceGBps()), r::toString);
            assertTrue(r.plainGBps() > 0 && Double.isFinite(r.plainGBps()), r::toString);
            // The batch's blocks are adjacent and go to adjacent slots: one run per batch.
            double expected = r.layout() == LayoutKind.CROSS_LAYER ? 1 : DeviceCopyBandwidth.LAYERS;
            assertEquals(expected, r.serviceCallsPerOp(), 1e-9, r::toString);
            assertTrue(DeviceCopyBandwidth.line(r).contains(r.way().name()));
        }
        assertEquals(0, calls.liveAllocations.get(), "device memory left allocated");
        assertEquals(0, calls.livePinned.get(), "pinned memory left allocated");
    }

    @Test
    void rejectsBlocksThatAreNoMultipleOf16KiB() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new Plan(List.of(8), List.of(1), List.of(LayoutKind.CROSS_LAYER), List.of(Way.BOTH), 1, 1));
    }
}
