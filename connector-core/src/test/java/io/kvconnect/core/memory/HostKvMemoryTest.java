package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.BLOCKS;
import static io.kvconnect.core.memory.KvTestSupport.assertBlockHolds;
import static io.kvconnect.core.memory.KvTestSupport.assertBlockZero;
import static io.kvconnect.core.memory.KvTestSupport.fill;
import static io.kvconnect.core.memory.KvTestSupport.layout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HostKvMemoryTest {
    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void everyBlockLayerIsItsOwnRegionOfTheLayoutSize(LayoutKind kind) {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(kind))) {
            for (int block = 0; block < BLOCKS; block++) {
                for (int layer = 0; layer < memory.layout().numLayers(); layer++) {
                    assertEquals(
                            memory.layout().bytesPerBlockPerLayer(),
                            memory.blockLayer(block, layer).byteSize());
                }
                fill(memory, block, 100 + block);
            }
            // Had two regions overlapped, the later fill would have overwritten the earlier one.
            for (int block = 0; block < BLOCKS; block++) {
                assertBlockHolds(memory, block, 100 + block);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void freshMemoryIsZeroedAndAligned(LayoutKind kind) {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(kind))) {
            for (int block = 0; block < BLOCKS; block++) {
                assertBlockZero(memory, block);
            }
            for (int layer = 0; layer < memory.layout().numLayers(); layer++) {
                assertEquals(
                        0, memory.blockLayer(0, layer).address() % 64, "layer " + layer + " starts 64-byte aligned");
            }
        }
    }

    @Test
    void aCrossLayerBlockIsItsLayersInOrder() {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER))) {
            KvLayout layout = memory.layout();
            fill(memory, 3, 7);

            MemorySegment block = memory.block(3);

            assertEquals(layout.bytesPerBlock(), block.byteSize());
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                MemorySegment region = memory.blockLayer(3, layer);
                assertEquals(block.address() + layer * layout.bytesPerBlockPerLayer(), region.address());
            }
            KvTestSupport.assertSlotHolds(block, layout, 7);
        }
    }

    @Test
    void aPerLayerCacheHasNoContiguousBlock() {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER))) {
            assertThrows(UnsupportedOperationException.class, () -> memory.block(1));
        }
    }

    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void idsAndLayersOutOfRangeAreRefused(LayoutKind kind) {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(kind))) {
            var e = assertThrows(IndexOutOfBoundsException.class, () -> memory.blockLayer(BLOCKS, 0));
            assertEquals("block 8 not in [0, 8)", e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> memory.blockLayer(-1, 0));
            e = assertThrows(IndexOutOfBoundsException.class, () -> memory.blockLayer(1, 2));
            assertEquals("layer 2 not in [0, 2)", e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> memory.blockLayer(1, -1));
            if (kind == LayoutKind.CROSS_LAYER) {
                assertThrows(IndexOutOfBoundsException.class, () -> memory.block(BLOCKS));
                assertThrows(IndexOutOfBoundsException.class, () -> memory.block(-1));
            }
        }
    }

    @Test
    void onlyHostLayoutsAreAllocated() {
        KvLayout host = layout(LayoutKind.PER_LAYER);
        KvLayout cuda = new KvLayout(
                host.model(),
                0,
                1,
                BLOCKS,
                host.blockSize(),
                host.bytesPerBlockPerLayer(),
                LayoutKind.PER_LAYER,
                MemoryKind.CUDA_DEVICE);

        assertThrows(IllegalArgumentException.class, () -> HostKvMemory.allocate(cuda));
    }

    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void useAfterCloseFailsWithIllegalState(LayoutKind kind) {
        HostKvMemory memory = HostKvMemory.allocate(layout(kind));
        MemorySegment region = memory.blockLayer(1, 1);

        memory.close();
        memory.close(); // idempotent

        assertThrows(IllegalStateException.class, () -> region.get(ValueLayout.JAVA_BYTE, 0));
        var e = assertThrows(IllegalStateException.class, () -> memory.blockLayer(1, 0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        if (kind == LayoutKind.CROSS_LAYER) {
            assertThrows(IllegalStateException.class, () -> memory.block(1));
        }
        assertEquals(kind, memory.layout().layout(), "the layout outlives the memory");
    }

    /** An arena whose memory has run out: every allocation throws, as a machine without memory would. */
    private static final class ExhaustedArena implements Arena {
        private final Arena scope = Arena.ofConfined();
        boolean closed;

        @Override
        public MemorySegment allocate(long byteSize, long byteAlignment) {
            throw new OutOfMemoryError("Unable to allocate " + byteSize + " bytes");
        }

        @Override
        public MemorySegment.Scope scope() {
            return scope.scope();
        }

        @Override
        public void close() {
            closed = true;
            scope.close();
        }
    }

    @Test
    void memoryTheMachineCannotGiveIsAnErrorNamingTheSizesAndNothingStaysAllocated() {
        ExhaustedArena arena = new ExhaustedArena();
        KvLayout layout = KvLayouts.of(KvTestSupport.TINY, 1, 2, 4097, 16, LayoutKind.PER_LAYER);

        KvMemoryUnavailableException e =
                assertThrows(KvMemoryUnavailableException.class, () -> HostKvMemory.allocate(layout, () -> arena));

        assertEquals(
                "cannot allocate the KV cache of worker 1 of 2: 8.0 MiB (4097 blocks x 2 layers x 1.0 KiB per "
                        + "block and layer) is more than the machine could give (Unable to allocate 4195328 bytes)",
                e.getMessage());
        assertTrue(e.getCause() instanceof OutOfMemoryError);
        assertTrue(arena.closed, "the arena is closed");
    }
}
