package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.assertSlotHolds;
import static io.kvconnect.core.memory.KvTestSupport.fill;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Device KV memory and its copies, above the CUDA calls: run with the host fake of the calls. */
@Timeout(60) // a safety net against a hung fake stream, not a timing assertion
class DeviceKvMemoryTest {
    static KvLayout deviceLayout(LayoutKind kind) {
        KvLayout host = KvTestSupport.layout(kind);
        return new KvLayout(
                host.model(),
                host.tensorParallelRank(),
                host.tensorParallelSize(),
                host.numBlocks(),
                host.blockSize(),
                host.bytesPerBlockPerLayer(),
                kind,
                MemoryKind.CUDA_DEVICE);
    }

    /** Writes {@code salt}'s pattern into the device's copy of block {@code block}, as the model would. */
    static void fillOnDevice(DeviceKvMemory memory, int block, int salt) {
        fill(memory, block, salt); // into staging
        int[] blocks = {block};
        for (int layer = 0; layer < memory.layout().numLayers(); layer++) {
            memory.afterLayer(layer, blocks);
        }
    }

    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void storeAndLoadMoveDeviceBytesThroughPinnedBuffers(LayoutKind kind) throws Exception {
        HostFakeCudaCalls calls = new HostFakeCudaCalls();
        try (DeviceKvMemory memory = DeviceKvMemory.allocate(deviceLayout(kind), calls);
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "device-copy");
                HostBlockBuffer buffer = service.allocateHostBuffer(3)) {
            assertEquals(1, calls.livePinned.get());
            fillOnDevice(memory, 1, 11);
            fillOnDevice(memory, 2, 22);
            fillOnDevice(memory, 3, 33);

            service.copyToHost(new int[] {1, 2, 3}, buffer, new int[] {0, 1, 2}).await();

            assertSlotHolds(buffer.slot(0), memory.layout(), 11);
            assertSlotHolds(buffer.slot(1), memory.layout(), 22);
            assertSlotHolds(buffer.slot(2), memory.layout(), 33);

            service.copyFromHost(buffer, new int[] {0, 1, 2}, new int[] {5, 6, 7})
                    .await();
            // The model sees what the device holds: pull block 5-7 into staging.
            int[] loaded = {5, 6, 7};
            for (int layer = 0; layer < memory.layout().numLayers(); layer++) {
                memory.beforeLayer(layer, loaded);
            }
            KvTestSupport.assertBlockHolds(memory, 5, 11);
            KvTestSupport.assertBlockHolds(memory, 6, 22);
            KvTestSupport.assertBlockHolds(memory, 7, 33);
        }
        assertEquals(0, calls.liveAllocations.get());
        assertEquals(0, calls.livePinned.get());
    }

    @Test
    void aBatchOfAdjacentBlocksCostsOneCallCrossLayerAndOnePerLayerOtherwise() throws Exception {
        for (LayoutKind kind : LayoutKind.values()) {
            HostFakeCudaCalls calls = new HostFakeCudaCalls();
            try (DeviceKvMemory memory = DeviceKvMemory.allocate(deviceLayout(kind), calls);
                    EngineBlockCopyService service = new EngineBlockCopyService(memory, "device-copy");
                    HostBlockBuffer buffer = service.allocateHostBuffer(4)) {
                long before = calls.copyCalls.get();
                service.copyToHost(new int[] {1, 2, 3, 4}, buffer, new int[] {0, 1, 2, 3})
                        .await();
                long expected =
                        kind == LayoutKind.CROSS_LAYER ? 1 : memory.layout().numLayers();
                assertEquals(expected, calls.copyCalls.get() - before, kind.name());
                assertEquals(expected, service.copyCalls(), kind.name());
            }
        }
    }

    @Test
    void aWrongDeviceCopyShowsInWhatTheModelReads() throws Exception {
        HostFakeCudaCalls calls = new HostFakeCudaCalls();
        try (DeviceKvMemory memory = DeviceKvMemory.allocate(deviceLayout(LayoutKind.PER_LAYER), calls);
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "device-copy");
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            fillOnDevice(memory, 1, 11);
            buffer.slot(0).fill((byte) 0x5a); // not what block 1 held

            service.copyFromHost(buffer, new int[] {0}, new int[] {1}).await();
            memory.beforeLayer(0, new int[] {1});

            MemorySegment staged = memory.blockLayer(1, 0);
            assertEquals((byte) 0x5a, staged.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void pinnedBuffersCountWhatWasAskedAgainstTheBudgetAndCostWholePages() {
        HostFakeCudaCalls calls = new HostFakeCudaCalls();
        HostMemoryBudget budget = new HostMemoryBudget(1 << 20);
        try (DeviceKvMemory memory = DeviceKvMemory.allocate(deviceLayout(LayoutKind.CROSS_LAYER), calls);
                EngineBlockCopyService service = new EngineBlockCopyService(
                        memory,
                        "device-copy",
                        CopyFaults.NONE,
                        io.kvconnect.core.kv.BlockGrants.everything(
                                memory.layout().numBlocks()),
                        budget)) {
            EngineHostBuffer buffer = (EngineHostBuffer) service.allocateHostBuffer(1);
            long asked = memory.layout().bytesPerBlock();
            assertEquals(asked, budget.usedBytes());
            assertEquals(asked, buffer.slot(0).byteSize());
            assertEquals((asked + 4095) / 4096 * 4096, buffer.allocatedBytes());
            buffer.close();
            assertEquals(0, budget.usedBytes());
            assertThrows(OutOfMemoryError.class, () -> service.allocateHostBuffer(1 << 20));
        }
    }

    @Test
    void aHostLayoutIsRefused() {
        assertThrows(
                IllegalArgumentException.class,
                () -> DeviceKvMemory.allocate(KvTestSupport.layout(LayoutKind.PER_LAYER), new HostFakeCudaCalls()));
    }

    @Test
    void theModelStagesOnlyOnDeviceMemory() {
        try (HostKvMemory host = HostKvMemory.allocate(KvTestSupport.layout(LayoutKind.PER_LAYER));
                DeviceKvMemory device =
                        DeviceKvMemory.allocate(deviceLayout(LayoutKind.PER_LAYER), new HostFakeCudaCalls())) {
            assertFalse(host.staged());
            assertArrayEquals(new boolean[] {true}, new boolean[] {device.staged()});
        }
    }
}
