package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.assertBlockHolds;
import static io.kvconnect.core.memory.KvTestSupport.assertBlockZero;
import static io.kvconnect.core.memory.KvTestSupport.assertSlotHolds;
import static io.kvconnect.core.memory.KvTestSupport.fill;
import static io.kvconnect.core.memory.KvTestSupport.layout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.memory.CopyFaults.Direction;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Copies that succeed: bytes, layouts, order, counters. */
@Timeout(60) // a safety net against a hung stream, not a timing assertion
class EngineBlockCopyServiceTest {
    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void aRoundTripThroughHostReproducesEveryByte(LayoutKind kind) throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(kind));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(3)) {
            fill(memory, 1, 11);
            fill(memory, 2, 22);
            fill(memory, 3, 33);

            service.copyToHost(new int[] {1, 2, 3}, buffer, new int[] {2, 0, 1}).await();

            assertSlotHolds(buffer.slot(2), memory.layout(), 11);
            assertSlotHolds(buffer.slot(0), memory.layout(), 22);
            assertSlotHolds(buffer.slot(1), memory.layout(), 33);

            service.copyFromHost(buffer, new int[] {2, 0, 1}, new int[] {5, 6, 7})
                    .await();

            assertBlockHolds(memory, 5, 11);
            assertBlockHolds(memory, 6, 22);
            assertBlockHolds(memory, 7, 33);
            assertBlockHolds(memory, 1, 11); // sources unchanged
            assertBlockZero(memory, 0);
            assertBlockZero(memory, 4);
        }
    }

    @Test
    void bothLayoutsFillSlotsWithTheSameCanonicalBytes() throws Exception {
        try (HostKvMemory perLayer = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                HostKvMemory crossLayer = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER));
                EngineBlockCopyService a = new EngineBlockCopyService(perLayer, "per-layer");
                EngineBlockCopyService b = new EngineBlockCopyService(crossLayer, "cross-layer");
                HostBlockBuffer bufferA = a.allocateHostBuffer(1);
                HostBlockBuffer bufferB = b.allocateHostBuffer(1)) {
            fill(perLayer, 4, 44);
            fill(crossLayer, 4, 44);

            a.copyToHost(new int[] {4}, bufferA, new int[] {0}).await();
            b.copyToHost(new int[] {4}, bufferB, new int[] {0}).await();

            assertEquals(-1, bufferA.slot(0).mismatch(bufferB.slot(0)));
            assertSlotHolds(bufferA.slot(0), perLayer.layout(), 44);
        }
    }

    @Test
    void hostBuffersHaveCanonicalZeroedSlots() {
        KvLayout layout = layout(LayoutKind.PER_LAYER);
        try (HostKvMemory memory = HostKvMemory.allocate(layout);
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(4)) {
            assertEquals(4, buffer.numSlots());
            assertEquals(layout.bytesPerBlock(), buffer.slotBytes());
            MemorySegment zeros = MemorySegment.ofArray(new byte[(int) layout.bytesPerBlock()]);
            for (int slot = 0; slot < 4; slot++) {
                assertEquals(layout.bytesPerBlock(), buffer.slot(slot).byteSize());
                assertEquals(-1, zeros.mismatch(buffer.slot(slot)));
            }
            assertEquals(
                    buffer.slot(0).address() + layout.bytesPerBlock(),
                    buffer.slot(1).address());
            assertThrows(IndexOutOfBoundsException.class, () -> buffer.slot(4));
            assertThrows(IndexOutOfBoundsException.class, () -> buffer.slot(-1));
        }
    }

    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void aCopyFromASlotRunsAfterAnEarlierCopyIntoIt(LayoutKind kind) throws Exception {
        KvTestSupport.StallFirst stall = new KvTestSupport.StallFirst();
        try (HostKvMemory memory = HostKvMemory.allocate(layout(kind));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", stall);
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            fill(memory, 1, 9);

            CopyTicket store = service.copyToHost(new int[] {1}, buffer, new int[] {0});
            stall.entered.await();
            CopyTicket load = service.copyFromHost(buffer, new int[] {0}, new int[] {2});

            assertFalse(load.isDone(), "the load waits behind the stalled store");
            stall.release();
            load.await();

            assertTrue(store.isDone());
            assertBlockHolds(memory, 2, 9);
        }
    }

    @Test
    void ticketsAndCountersReportTheBytesOfEachCall() throws Exception {
        KvLayout layout = layout(LayoutKind.PER_LAYER);
        try (HostKvMemory memory = HostKvMemory.allocate(layout);
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(4)) {
            CopyTicket three = service.copyToHost(new int[] {1, 2, 3}, buffer, new int[] {0, 1, 2});
            CopyTicket one = service.copyToHost(new int[] {4}, buffer, new int[] {3});
            CopyTicket two = service.copyFromHost(buffer, new int[] {0, 1}, new int[] {5, 6});
            two.await();

            assertEquals(3 * layout.bytesPerBlock(), three.bytes());
            assertEquals(layout.bytesPerBlock(), one.bytes());
            assertEquals(2 * layout.bytesPerBlock(), two.bytes());
            assertTrue(three.isDone() && one.isDone(), "earlier copies finished first");
            assertFalse(three.failed() || one.failed() || two.failed());
            assertEquals(4 * layout.bytesPerBlock(), service.bytesCopied(Direction.TO_HOST));
            assertEquals(2 * layout.bytesPerBlock(), service.bytesCopied(Direction.FROM_HOST));
        }
    }

    @Test
    void anEmptyCopyCompletesInOrder() throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            CopyTicket ticket = service.copyToHost(new int[0], buffer, new int[0]);
            ticket.await();

            assertEquals(0, ticket.bytes());
            assertFalse(ticket.failed());
        }
    }

    @Test
    void copiesRunOnTheNamedDaemonStreamWithTheirBlockIds() throws Exception {
        AtomicReference<Thread> thread = new AtomicReference<>();
        AtomicReference<int[]> ids = new AtomicReference<>();
        CopyFaults spy = (direction, blockIds) -> {
            thread.set(Thread.currentThread());
            ids.set(blockIds);
        };
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "worker-0-copy", spy);
                HostBlockBuffer buffer = service.allocateHostBuffer(2)) {
            service.copyToHost(new int[] {3, 1}, buffer, new int[] {0, 1}).await();

            assertEquals("worker-0-copy", thread.get().getName());
            assertTrue(thread.get().isDaemon());
            assertEquals(List.of(3, 1), Arrays.stream(ids.get()).boxed().toList());
        }
    }
}
