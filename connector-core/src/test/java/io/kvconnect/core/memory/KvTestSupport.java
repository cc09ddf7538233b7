package io.kvconnect.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/** Small shapes, byte patterns and a stall gate shared by the memory tests. */
final class KvTestSupport {
    /** 2 layers, 2 KV heads of 16 FP16: 128 B per token per layer. */
    static final ModelShape TINY = new ModelShape("tiny", 2, 2, 16, DType.FP16);

    static final int BLOCKS = 8;
    static final int BLOCK_SIZE = 4;

    private KvTestSupport() {}

    static KvLayout layout(LayoutKind kind) {
        return KvLayouts.of(TINY, 0, 1, BLOCKS, BLOCK_SIZE, kind);
    }

    /** A byte that differs between blocks, layers and offsets (and between salts). */
    static byte pattern(int salt, int layer, long offset) {
        long h = (salt * 1_000_003L + layer * 8_191L + offset) * 0x9E3779B97F4A7C15L;
        return (byte) (h >>> 56);
    }

    /** Writes the pattern of {@code salt} into every layer of {@code block}. */
    static void fill(KvMemory memory, int block, int salt) {
        for (int layer = 0; layer < memory.layout().numLayers(); layer++) {
            MemorySegment region = memory.blockLayer(block, layer);
            for (long o = 0; o < region.byteSize(); o++) {
                region.set(ValueLayout.JAVA_BYTE, o, pattern(salt, layer, o));
            }
        }
    }

    /** The canonical block of {@code salt}: layer-major, as a host-buffer slot holds it. */
    static MemorySegment canonical(KvLayout layout, int salt) {
        MemorySegment block = MemorySegment.ofArray(new byte[Math.toIntExact(layout.bytesPerBlock())]);
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            for (long o = 0; o < layout.bytesPerBlockPerLayer(); o++) {
                block.set(ValueLayout.JAVA_BYTE, layer * layout.bytesPerBlockPerLayer() + o, pattern(salt, layer, o));
            }
        }
        return block;
    }

    static void assertBlockHolds(KvMemory memory, int block, int salt) {
        MemorySegment expected = canonical(memory.layout(), salt);
        long layerBytes = memory.layout().bytesPerBlockPerLayer();
        for (int layer = 0; layer < memory.layout().numLayers(); layer++) {
            MemorySegment want = expected.asSlice(layer * layerBytes, layerBytes);
            assertEquals(
                    -1,
                    want.mismatch(memory.blockLayer(block, layer)),
                    "block " + block + " layer " + layer + " holds the pattern of " + salt);
        }
    }

    static void assertBlockZero(KvMemory memory, int block) {
        for (int layer = 0; layer < memory.layout().numLayers(); layer++) {
            MemorySegment region = memory.blockLayer(block, layer);
            MemorySegment zeros = MemorySegment.ofArray(new byte[Math.toIntExact(region.byteSize())]);
            assertEquals(-1, zeros.mismatch(region), "block " + block + " layer " + layer + " is untouched");
        }
    }

    static void assertSlotHolds(MemorySegment slot, KvLayout layout, int salt) {
        assertEquals(-1, canonical(layout, salt).mismatch(slot), "slot holds the canonical block of " + salt);
    }

    /**
     * Stalls the first copy that reaches it until {@link #release()}; later copies pass. Lets a test
     * queue copies behind a copy it knows is running, without sleeping.
     */
    static final class StallFirst implements CopyFaults {
        final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        private final AtomicBoolean first = new AtomicBoolean(true);

        @Override
        public void beforeCopy(Direction direction, int[] blockIds) throws InterruptedException {
            if (first.compareAndSet(true, false)) {
                entered.countDown();
                released.await();
            }
        }

        void release() {
            released.countDown();
        }
    }
}
