package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.assertSlotHolds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.LayoutKind;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The device path on a real GPU through JCuda. Skipped, with the probe's reason ("no CUDA driver:
 * ...", "JCuda failed to load: ..."), where CUDA is not usable.
 */
@Timeout(120)
class CudaDeviceTest {
    @BeforeEach
    void needsCuda() {
        // Per test, not per class: a class-level skip hides the tests and the reason from the report.
        CudaAvailability cuda = CudaAvailability.probe();
        assumeTrue(cuda.usable(), cuda.toString());
    }

    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void aRoundTripThroughPinnedMemoryKeepsEveryByte(LayoutKind kind) throws Exception {
        try (DeviceKvMemory memory =
                        DeviceKvMemory.allocate(DeviceKvMemoryTest.deviceLayout(kind), JCudaCalls.forDevice(0));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "cuda-copy");
                HostBlockBuffer buffer = service.allocateHostBuffer(3)) {
            DeviceKvMemoryTest.fillOnDevice(memory, 1, 11);
            DeviceKvMemoryTest.fillOnDevice(memory, 2, 22);

            service.copyToHost(new int[] {1, 2}, buffer, new int[] {0, 1}).await();
            assertSlotHolds(buffer.slot(0), memory.layout(), 11);
            assertSlotHolds(buffer.slot(1), memory.layout(), 22);

            service.copyFromHost(buffer, new int[] {0, 1}, new int[] {5, 6}).await();
            for (int layer = 0; layer < memory.layout().numLayers(); layer++) {
                memory.beforeLayer(layer, new int[] {5, 6});
            }
            KvTestSupport.assertBlockHolds(memory, 5, 11);
            KvTestSupport.assertBlockHolds(memory, 6, 22);
            assertEquals(
                    kind == LayoutKind.CROSS_LAYER ? 2 : 2L * memory.layout().numLayers(), service.copyCalls());
        }
    }
}
