package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.assertBlockHolds;
import static io.kvconnect.core.memory.KvTestSupport.fill;
import static io.kvconnect.core.memory.KvTestSupport.layout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.memory.CopyFaults.Direction;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/** Arguments are checked eagerly, on the calling thread, and a refused call copies nothing. */
@Timeout(60)
class CopyArgumentsTest {
    private HostKvMemory memory;
    private EngineBlockCopyService service;
    private HostBlockBuffer buffer;

    @BeforeEach
    void setUp() {
        memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
        service = new EngineBlockCopyService(memory, "copy-test");
        buffer = service.allocateHostBuffer(2);
    }

    @AfterEach
    void tearDown() {
        buffer.close();
        service.close();
        memory.close();
    }

    @Test
    void arraysOfDifferentLengthsAreRefused() {
        refused("2 block ids but 1 slots", () -> service.copyToHost(new int[] {1, 2}, buffer, new int[] {0}));
        refused("1 block ids but 2 slots", () -> service.copyFromHost(buffer, new int[] {0, 1}, new int[] {1}));
    }

    @Test
    void theNullBlockIsNeverCopied() {
        refused(
                "blockIds[1] is 0, the null block, which is never copied",
                () -> service.copyToHost(new int[] {1, 0}, buffer, new int[] {0, 1}));
        refused(
                "blockIds[0] is 0, the null block, which is never copied",
                () -> service.copyFromHost(buffer, new int[] {0}, new int[] {0}));
    }

    @Test
    void blockIdsOutOfRangeAreRefused() {
        refused("blockIds[0] = 8 not in [1, 8)", () -> service.copyToHost(new int[] {8}, buffer, new int[] {0}));
        refused("blockIds[0] = -1 not in [1, 8)", () -> service.copyFromHost(buffer, new int[] {0}, new int[] {-1}));
    }

    @Test
    void slotsOutOfRangeAreRefused() {
        refused("slots[0] = 2 not in [0, 2)", () -> service.copyToHost(new int[] {1}, buffer, new int[] {2}));
        refused("slots[0] = -1 not in [0, 2)", () -> service.copyFromHost(buffer, new int[] {-1}, new int[] {1}));
    }

    @Test
    void aSlotNamedTwiceIsRefusedEitherWay() {
        refused("slot 1 named twice in one copy", () -> service.copyToHost(new int[] {1, 2}, buffer, new int[] {1, 1}));
        refused(
                "slot 1 named twice in one copy",
                () -> service.copyFromHost(buffer, new int[] {1, 1}, new int[] {1, 2}));
    }

    @Test
    void aBlockWrittenTwiceIsRefusedButMayBeReadTwice() throws Exception {
        refused(
                "block 3 written twice in one copy",
                () -> service.copyFromHost(buffer, new int[] {0, 1}, new int[] {3, 3}));

        fill(memory, 3, 5);
        service.copyToHost(new int[] {3, 3}, buffer, new int[] {0, 1}).await();
        service.copyFromHost(buffer, new int[] {1}, new int[] {4}).await();
        assertBlockHolds(memory, 4, 5);
    }

    @Test
    void aBufferOfAnotherServiceIsRefused() {
        try (HostKvMemory otherMemory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService other = new EngineBlockCopyService(otherMemory, "other");
                HostBlockBuffer foreign = other.allocateHostBuffer(2)) {
            var e = assertThrows(
                    IllegalArgumentException.class, () -> service.copyToHost(new int[] {1}, foreign, new int[] {0}));
            assertEquals(true, e.getMessage().contains("was not allocated by copy service copy-test"), e.getMessage());
            assertThrows(
                    IllegalArgumentException.class, () -> service.copyFromHost(foreign, new int[] {0}, new int[] {1}));
        }
        assertThrows(
                IllegalArgumentException.class,
                () -> service.copyToHost(new int[] {1}, new FakeBuffer(), new int[] {0}));
        assertNothingCopied();
    }

    @Test
    void aClosedBufferIsRefused() {
        buffer.close();
        buffer.close(); // idempotent

        var e = assertThrows(
                IllegalArgumentException.class, () -> service.copyToHost(new int[] {1}, buffer, new int[] {0}));
        assertEquals(true, e.getMessage().endsWith("is closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> buffer.slot(0));
    }

    @Test
    void nullsAndEmptyBuffersAreRefused() {
        assertThrows(NullPointerException.class, () -> service.copyToHost(null, buffer, new int[0]));
        assertThrows(NullPointerException.class, () -> service.copyToHost(new int[0], null, new int[0]));
        assertThrows(NullPointerException.class, () -> service.copyFromHost(buffer, null, new int[0]));
        assertThrows(IllegalArgumentException.class, () -> service.allocateHostBuffer(0));
        assertThrows(IllegalArgumentException.class, () -> service.allocateHostBuffer(-1));
    }

    @Test
    void theCallersArraysMayBeReusedAtOnce() throws Exception {
        KvTestSupport.StallFirst stall = new KvTestSupport.StallFirst();
        try (EngineBlockCopyService stalled = new EngineBlockCopyService(memory, "stalled", stall);
                HostBlockBuffer own = stalled.allocateHostBuffer(2)) {
            fill(memory, 1, 1);
            int[] ids = {1};
            int[] slots = {0};
            var ticket = stalled.copyToHost(ids, own, slots);
            stall.entered.await();
            ids[0] = 2;
            slots[0] = 1;
            stall.release();
            ticket.await();

            KvTestSupport.assertSlotHolds(own.slot(0), memory.layout(), 1);
        }
    }

    private void refused(String message, Executable call) {
        var e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(message, e.getMessage());
        assertNothingCopied();
    }

    private void assertNothingCopied() {
        assertEquals(0, service.bytesCopied(Direction.TO_HOST) + service.bytesCopied(Direction.FROM_HOST));
    }

    /** A buffer the service never made, with slots of the right size. */
    private static final class FakeBuffer implements HostBlockBuffer {
        private final MemorySegment memory = MemorySegment.ofArray(
                new byte[(int) layout(LayoutKind.PER_LAYER).bytesPerBlock()]);

        @Override
        public int numSlots() {
            return 1;
        }

        @Override
        public long slotBytes() {
            return memory.byteSize();
        }

        @Override
        public MemorySegment slot(int slot) {
            return memory;
        }

        @Override
        public void close() {}
    }
}
