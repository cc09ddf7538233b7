package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.assertBlockHolds;
import static io.kvconnect.core.memory.KvTestSupport.assertSlotHolds;
import static io.kvconnect.core.memory.KvTestSupport.fill;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.memory.CopyFaults.Direction;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Copies larger than the inline limit, awaited by their caller, who takes or helps them: every
 * block lands once with the right bytes, in call order, whichever thread moved it.
 */
@Timeout(60) // a safety net against a hung stream, not a timing assertion
class SharedCopyTest {
    /** 4 layers, 2 KV heads of 64 FP16, 16 tokens: 32 KiB blocks, 8 KiB per layer. */
    private static final ModelShape WIDE = new ModelShape("wide", 4, 2, 64, DType.FP16);

    private static final int BLOCKS = 48;
    /** 40 blocks: 1.25 MiB, above the inline limit and five pieces in either layout. */
    private static final int COPIED = 40;

    static KvLayout wide(LayoutKind kind) {
        return KvLayouts.of(WIDE, 0, 1, BLOCKS, 16, kind);
    }

    @Test
    void theBatchIsLargerThanTheInlineLimitAndOnePiece() {
        long bytes = COPIED * wide(LayoutKind.CROSS_LAYER).bytesPerBlock();
        assertTrue(bytes > EngineBlockCopyService.INLINE_MAX_BYTES);
        assertTrue(bytes > HostCopyPieces.PIECE_BYTES);
    }

    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void aLargeBatchAwaitedByItsCallerLandsOnceWithTheRightBytes(LayoutKind kind) throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(wide(kind));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(COPIED)) {
            for (int b = 1; b < BLOCKS; b++) {
                fill(memory, b, 100 + b);
            }
            // Two runs and a single block, not in block order: blocks 8..27 -> slots 0..19,
            // 1 -> 20, 29..47 -> slots 21..39.
            int[] ids = IntStream.concat(
                            IntStream.rangeClosed(8, 27),
                            IntStream.concat(IntStream.of(1), IntStream.rangeClosed(29, 47)))
                    .toArray();
            int[] slots = IntStream.range(0, COPIED).toArray();

            CopyTicket store = service.copyToHost(ids, buffer, slots);
            store.await();

            for (int i = 0; i < COPIED; i++) {
                assertSlotHolds(buffer.slot(slots[i]), memory.layout(), 100 + ids[i]);
            }
            assertEquals(COPIED, service.blocksCopied(Direction.TO_HOST));
            assertEquals(COPIED * memory.layout().bytesPerBlock(), service.bytesCopied(Direction.TO_HOST));

            // Back into other blocks, in reverse: slot i -> block 47 - i (blocks 8..47).
            int[] targets = IntStream.range(0, COPIED).map(i -> BLOCKS - 1 - i).toArray();
            CopyTicket load = service.copyFromHost(buffer, slots, targets);
            load.await();

            for (int i = 0; i < COPIED; i++) {
                assertBlockHolds(memory, targets[i], 100 + ids[i]);
            }
            assertEquals(COPIED, service.blocksCopied(Direction.FROM_HOST));
        }
    }

    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void largeCopiesRunAndCompleteInCallOrderWhenOnlyTheLastIsAwaited(LayoutKind kind) throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(wide(kind));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(COPIED)) {
            int[] slots = IntStream.range(0, COPIED).toArray();
            int[] low = IntStream.rangeClosed(1, COPIED).toArray(); // blocks 1..40
            int[] high = IntStream.range(0, COPIED).map(i -> BLOCKS - 1 - i).toArray(); // blocks 47..8
            List<CopyTicket> tickets = new ArrayList<>();
            // Each round stores the low blocks, then loads them into the high ones through the same
            // slots: each load must see the store before it, each store the load before it done.
            for (int round = 0; round < 4; round++) {
                for (int b = 1; b <= COPIED; b++) {
                    fill(memory, b, 1000 * round + b);
                }
                tickets.add(service.copyToHost(low, buffer, slots));
                tickets.add(service.copyFromHost(buffer, slots, high));
                tickets.getLast().await();
                for (int i = 0; i < COPIED; i++) {
                    assertBlockHolds(memory, high[i], 1000 * round + low[i]);
                }
            }

            for (CopyTicket ticket : tickets) {
                assertTrue(ticket.isDone());
                assertFalse(ticket.failed());
            }
            assertEquals(4L * COPIED, service.blocksCopied(Direction.TO_HOST));
            assertEquals(4L * COPIED, service.blocksCopied(Direction.FROM_HOST));
        }
    }

    @Test
    void largeCopiesWithFaultsRunOnTheStreamOnly() throws Exception {
        List<Thread> ran = new ArrayList<>();
        CopyFaults spy = (direction, ids) -> {
            synchronized (ran) {
                ran.add(Thread.currentThread());
            }
        };
        try (HostKvMemory memory = HostKvMemory.allocate(wide(LayoutKind.CROSS_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", spy);
                HostBlockBuffer buffer = service.allocateHostBuffer(COPIED)) {
            int[] ids = IntStream.rangeClosed(1, COPIED).toArray();
            int[] slots = IntStream.range(0, COPIED).toArray();
            for (int i = 0; i < 3; i++) {
                service.copyToHost(ids, buffer, slots).await();
            }
            synchronized (ran) {
                assertEquals(3, ran.size());
                for (Thread thread : ran) {
                    assertEquals("copy-test", thread.getName());
                }
            }
        }
    }
}
