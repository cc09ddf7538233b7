package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.layout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.LayoutKind;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The connectors' host memory budget, shared by the copy services of every worker of an engine. */
class HostMemoryBudgetTest {
    /** One slot of the tiny layout: 4 tokens x 128 B x 2 layers. */
    private static final long SLOT = 1024;

    @Test
    void aBufferBeyondTheBudgetSharedByTwoWorkersIsRefusedNamingTheBudgetAndItsKey() {
        HostMemoryBudget budget = new HostMemoryBudget(10 * SLOT);
        try (HostKvMemory m0 = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                HostKvMemory m1 = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService w0 = new EngineBlockCopyService(
                        m0,
                        "budget-0",
                        CopyFaults.NONE,
                        io.kvconnect.core.kv.BlockGrants.everything(m0.layout().numBlocks()),
                        budget);
                EngineBlockCopyService w1 = new EngineBlockCopyService(
                        m1,
                        "budget-1",
                        CopyFaults.NONE,
                        io.kvconnect.core.kv.BlockGrants.everything(m1.layout().numBlocks()),
                        budget)) {
            HostBlockBuffer first = w0.allocateHostBuffer(6);
            assertEquals(6 * SLOT, budget.usedBytes());

            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> w1.allocateHostBuffer(5));

            assertTrue(e instanceof HostMemoryBudgetExceededError, e.toString());
            assertEquals(
                    "host buffer of 5 slot(s) x 1.0 KiB = 5.0 KiB on budget-1 refused: it would take "
                            + "connectors' host buffers to 11.0 KiB, beyond the host memory budget of 10.0 KiB (10240 B, "
                            + "engine key host_memory_budget; 6.0 KiB in use); ask for less or raise host_memory_budget",
                    e.getMessage());
            assertEquals(6 * SLOT, budget.usedBytes(), "nothing was reserved for the refused buffer");

            HostBlockBuffer second = w1.allocateHostBuffer(4);
            assertEquals(10 * SLOT, budget.usedBytes(), "exactly the budget is allowed");
            first.close();
            first.close();
            assertEquals(4 * SLOT, budget.usedBytes(), "a closed buffer gives its bytes back, once");
            assertEquals(6, w0.allocateHostBuffer(6).numSlots());
            second.close();
        }
        assertEquals(0, budget.usedBytes(), "buffers left open are closed with their service, and given back");
    }

    @Test
    void aBufferLargerThanTheWholeBudgetIsRefusedBeforeAnythingIsAllocated() {
        HostMemoryBudget budget = new HostMemoryBudget(SLOT);
        try (HostKvMemory m = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(
                        m,
                        "budget",
                        CopyFaults.NONE,
                        io.kvconnect.core.kv.BlockGrants.everything(m.layout().numBlocks()),
                        budget)) {
            // 2^31 - 1 slots of 1 KiB would be 2 TiB: refused by the budget, not by the machine.
            assertThrows(HostMemoryBudgetExceededError.class, () -> service.allocateHostBuffer(Integer.MAX_VALUE));
            assertEquals(0, budget.usedBytes());
        }
    }

    @Test
    void theDefaultIsAQuarterOfTheMachineOrAFewGibibytesWhenUnknown() {
        assertEquals(6L << 30, HostMemoryBudget.defaultBytes(OptionalLong.of(24L << 30)));
        assertEquals(4L << 30, HostMemoryBudget.defaultBytes(OptionalLong.empty()));
        assertThrows(IllegalArgumentException.class, () -> new HostMemoryBudget(-1));
    }
}
