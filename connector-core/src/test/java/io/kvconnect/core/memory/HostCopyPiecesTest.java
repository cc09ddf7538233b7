package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.assertBlockHolds;
import static io.kvconnect.core.memory.KvTestSupport.assertSlotHolds;
import static io.kvconnect.core.memory.KvTestSupport.fill;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A host copy cut into pieces: copied in any order, the pieces make up the whole copy once. */
class HostCopyPiecesTest {
    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void piecesCopiedInReverseOrderMakeTheWholeCopy(LayoutKind kind) {
        KvLayout layout = SharedCopyTest.wide(kind);
        try (HostKvMemory memory = HostKvMemory.allocate(layout);
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(20)) {
            for (int b = 1; b < layout.numBlocks(); b++) {
                fill(memory, b, 7 * b);
            }
            // A run of 12 blocks (384 KiB: two pieces cross-layer), a single block, a run of 7.
            int[] ids = IntStream.concat(
                            IntStream.rangeClosed(3, 14),
                            IntStream.concat(IntStream.of(30), IntStream.rangeClosed(40, 46)))
                    .toArray();
            int[] slots = IntStream.range(0, ids.length).map(i -> 19 - i).toArray(); // reversed: no runs of slots
            int[] runSlots = IntStream.range(0, ids.length).toArray();
            HostCopyPieces reversedSlots = new HostCopyPieces(memory, (EngineHostBuffer) buffer, true, ids, slots);
            HostCopyPieces runs = new HostCopyPieces(memory, (EngineHostBuffer) buffer, true, ids, runSlots);

            // Per layer: 8 KiB copies, 32 to a piece: 20 blocks x 4 layers = 80 copies = 3 pieces.
            // Cross layer: 20 single-block runs = 20 pieces; or runs of 12, 1, 7 blocks = 2 + 1 + 1.
            assertEquals(kind == LayoutKind.PER_LAYER ? 3 : 20, reversedSlots.pieces());
            assertEquals(kind == LayoutKind.PER_LAYER ? 3 : 4, runs.pieces());

            for (int p = reversedSlots.pieces() - 1; p >= 0; p--) {
                reversedSlots.copy(p);
            }
            for (int i = 0; i < ids.length; i++) {
                assertSlotHolds(buffer.slot(slots[i]), layout, 7 * ids[i]);
            }

            for (int b = 1; b < layout.numBlocks(); b++) {
                fill(memory, b, 11 * b);
            }
            for (int p = runs.pieces() - 1; p >= 0; p--) {
                runs.copy(p);
            }
            for (int i = 0; i < ids.length; i++) {
                assertSlotHolds(buffer.slot(runSlots[i]), layout, 11 * ids[i]);
            }

            // And back: slots 0..19 into blocks 21..40, pieces in reverse.
            int[] targets = IntStream.rangeClosed(21, 40).toArray();
            HostCopyPieces load = new HostCopyPieces(memory, (EngineHostBuffer) buffer, false, targets, runSlots);
            for (int p = load.pieces() - 1; p >= 0; p--) {
                load.copy(p);
            }
            for (int i = 0; i < ids.length; i++) {
                assertBlockHolds(memory, targets[i], 11 * ids[i]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void anEmptyCopyHasNoPiecesAndRefusesOne(LayoutKind kind) {
        try (HostKvMemory memory = HostKvMemory.allocate(SharedCopyTest.wide(kind));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            HostCopyPieces empty = new HostCopyPieces(memory, (EngineHostBuffer) buffer, true, new int[0], new int[0]);

            assertEquals(0, empty.pieces());
            assertThrows(IndexOutOfBoundsException.class, () -> empty.copy(0));
        }
    }
}
