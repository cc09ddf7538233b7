package io.kvconnect.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Selection of host or CUDA memory (engine key memory), with the probe's answer given. */
class MemoryPlacementTest {
    private static final Supplier<CudaAvailability> NO_DRIVER = () -> CudaAvailability.unavailable(
            CudaAvailability.Reason.NO_DRIVER, "libcuda.so.1 missing or too old (cudaErrorInsufficientDriver)");
    private static final Supplier<CudaAvailability> TWO_DEVICES = () -> CudaAvailability.available(2);

    @Test
    void cudaWithoutADriverIsAConfigurationErrorNamingTheReason() {
        ConfigException e =
                assertThrows(ConfigException.class, () -> MemoryPlacement.resolve(MemorySelection.CUDA, NO_DRIVER));

        assertTrue(e.getMessage().contains("config.memory"), e.getMessage());
        assertTrue(e.getMessage().contains("no CUDA driver: libcuda.so.1"), e.getMessage());
    }

    @Test
    void autoWithoutCudaUsesHostMemoryAndSaysWhy() {
        for (CudaAvailability.Reason reason : CudaAvailability.Reason.values()) {
            MemoryPlacement p =
                    MemoryPlacement.resolve(MemorySelection.AUTO, () -> CudaAvailability.unavailable(reason, "detail"));

            assertEquals(MemoryKind.HOST, p.kind());
            assertTrue(p.why().contains(reason.words() + ": detail"), p.why());
            assertEquals("host (" + reason.brief() + ")", p.brief());
            assertTrue(p.brief().length() <= MemoryPlacement.BRIEF_MAX, p.brief());
        }
    }

    @Test
    void theBriefLeavesOutWhatTheProbeSaw() {
        MemoryPlacement p = MemoryPlacement.resolve(MemorySelection.AUTO, NO_DRIVER);

        assertEquals("host (no CUDA driver)", p.brief());
        assertTrue(p.why().contains("libcuda.so.1 missing or too old (cudaErrorInsufficientDriver)"), p.why());
        assertEquals(
                "CUDA (2 device(s))",
                MemoryPlacement.resolve(MemorySelection.AUTO, TWO_DEVICES).brief());
        assertEquals(
                "host (memory: host)",
                MemoryPlacement.resolve(MemorySelection.HOST, NO_DRIVER).brief());
    }

    @Test
    void hostNeverProbes() {
        MemoryPlacement p = MemoryPlacement.resolve(MemorySelection.HOST, () -> {
            throw new AssertionError("probed");
        });

        assertEquals(MemoryKind.HOST, p.kind());
    }

    @Test
    void autoAndCudaWithADeviceUseDeviceMemoryOneDevicePerWorker() {
        MemoryPlacement p = MemoryPlacement.resolve(MemorySelection.AUTO, TWO_DEVICES);
        assertEquals(MemoryKind.CUDA_DEVICE, p.kind());
        assertEquals(
                MemoryKind.CUDA_DEVICE,
                MemoryPlacement.resolve(MemorySelection.CUDA, TWO_DEVICES).kind());

        int[] devices = new int[4];
        for (int rank = 0; rank < 4; rank++) {
            var layout = KvLayouts.of(KvTestSupport.TINY, rank, 4, 8, 4, LayoutKind.PER_LAYER);
            int r = rank;
            try (KvMemory memory = p.allocate(layout, d -> {
                devices[r] = d;
                return new HostFakeCudaCalls();
            })) {
                DeviceKvMemory device = assertInstanceOf(DeviceKvMemory.class, memory);
                assertEquals(MemoryKind.CUDA_DEVICE, device.layout().memory());
            }
        }
        assertEquals(0, devices[0]);
        assertEquals(1, devices[1]);
        assertEquals(0, devices[2]);
        assertEquals(1, devices[3]);
    }
}
