package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.assertBlockHolds;
import static io.kvconnect.core.memory.KvTestSupport.assertSlotHolds;
import static io.kvconnect.core.memory.KvTestSupport.fill;
import static io.kvconnect.core.memory.KvTestSupport.layout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.LayoutKind;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Batches with runs of adjacent blocks, and small copies run on the caller when the stream is idle. */
@Timeout(60) // a safety net against a hung stream, not a timing assertion
class CoalescedCopyTest {
    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void runsAndSingleBlocksMixedInOneBatchLandInTheirSlots(LayoutKind kind) throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(kind));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(6)) {
            for (int b = 1; b <= 6; b++) {
                fill(memory, b, 10 * b);
            }
            // Runs: 2-3-4 -> 1-2-3, then 6 -> 5, then 1 -> 0.
            service.copyToHost(new int[] {2, 3, 4, 6, 1}, buffer, new int[] {1, 2, 3, 5, 0})
                    .await();

            assertSlotHolds(buffer.slot(1), memory.layout(), 20);
            assertSlotHolds(buffer.slot(2), memory.layout(), 30);
            assertSlotHolds(buffer.slot(3), memory.layout(), 40);
            assertSlotHolds(buffer.slot(5), memory.layout(), 60);
            assertSlotHolds(buffer.slot(0), memory.layout(), 10);

            service.copyFromHost(buffer, new int[] {1, 2, 3}, new int[] {5, 6, 7})
                    .await();

            assertBlockHolds(memory, 5, 20);
            assertBlockHolds(memory, 6, 30);
            assertBlockHolds(memory, 7, 40);
        }
    }

    @Test
    void crossLayerRunIsOneCopyCall() throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(4)) {
            service.copyToHost(new int[] {1, 2, 3, 4}, buffer, new int[] {0, 1, 2, 3})
                    .await();
            assertEquals(1, service.copyCalls());

            service.copyToHost(new int[] {1, 3}, buffer, new int[] {0, 1}).await();
            assertEquals(3, service.copyCalls());
        }
    }

    @Test
    void aSmallCopyOnAnIdleStreamIsDoneWhenTheCallReturns() throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            fill(memory, 1, 7);
            service.awaitQueued(Long.MAX_VALUE); // idle

            CopyTicket ticket = service.copyToHost(new int[] {1}, buffer, new int[] {0});

            assertTrue(ticket.isDone());
            assertSlotHolds(buffer.slot(0), memory.layout(), 7);
        }
    }

    @Test
    void copiesWithFaultsAlwaysRunOnTheStream() throws Exception {
        AtomicReference<Thread> ran = new AtomicReference<>();
        CopyFaults spy = (direction, ids) -> ran.set(Thread.currentThread());
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", spy);
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            service.copyToHost(new int[] {1}, buffer, new int[] {0}).await();

            assertNotEquals(Thread.currentThread(), ran.get());
            assertEquals("copy-test", ran.get().getName());
        }
    }
}
