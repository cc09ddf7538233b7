package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.assertBlockHolds;
import static io.kvconnect.core.memory.KvTestSupport.fill;
import static io.kvconnect.core.memory.KvTestSupport.layout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.memory.CopyFaults.Direction;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Failures, stalls and closing. */
@Timeout(60)
class CopyLifecycleTest {
    @Test
    void aFailedCopyFailsItsTicketWithTheCauseAndTheStreamGoesOn() throws Exception {
        IOException injected = new IOException("injected");
        AtomicInteger calls = new AtomicInteger();
        CopyFaults failFirst = (direction, blockIds) -> {
            if (calls.getAndIncrement() == 0) {
                throw injected;
            }
        };
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", failFirst);
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            fill(memory, 1, 3);
            CopyTicket failed = service.copyToHost(new int[] {1}, buffer, new int[] {0});
            CopyTicket next = service.copyToHost(new int[] {1}, buffer, new int[] {0});
            next.await();

            assertTrue(failed.isDone());
            assertTrue(failed.failed());
            var e = assertThrows(CopyFailedException.class, failed::await);
            assertSame(injected, e.getCause());
            e = assertThrows(CopyFailedException.class, () -> failed.await(Duration.ZERO));
            assertSame(injected, e.getCause());
            assertFalse(next.failed());
            assertTrue(failed.copyNanos().isEmpty(), "a failed copy has no copy time");
            assertTrue(next.copyNanos().orElseThrow() >= 0);
            KvTestSupport.assertSlotHolds(buffer.slot(0), memory.layout(), 3);
            assertEquals(
                    memory.layout().bytesPerBlock(), service.bytesCopied(Direction.TO_HOST), "only the success counts");
        }
    }

    @Test
    void awaitQueuedReturnsOnceEveryCopyQueuedBeforeItRan() throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(4)) {
            List<CopyTicket> tickets = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                tickets.add(service.copyToHost(new int[] {1 + i}, buffer, new int[] {i}));
            }
            service.awaitQueued(Duration.ofDays(1).toNanos());

            for (CopyTicket t : tickets) {
                assertTrue(t.isDone(), "queued before the wait, so run by its end");
            }
            assertEquals(0, service.awaitQueued(Duration.ofDays(1).toNanos()), "nothing queued: no wait at all");
        }
    }

    @Test
    void awaitQueuedGivesUpAfterItsTimeWhileACopyStalls() throws Exception {
        KvTestSupport.StallFirst stall = new KvTestSupport.StallFirst();
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", stall);
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            CopyTicket ticket = service.copyToHost(new int[] {1}, buffer, new int[] {0});
            stall.entered.await();

            long waited = service.awaitQueued(Duration.ofMillis(20).toNanos());

            assertTrue(waited >= Duration.ofMillis(20).toNanos(), "waited its whole time: " + waited);
            assertFalse(ticket.isDone());
            stall.release();
            ticket.await();
        }
    }

    @Test
    void aStalledCopyTimesOutThenCompletes() throws Exception {
        KvTestSupport.StallFirst stall = new KvTestSupport.StallFirst();
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", stall);
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            CopyTicket ticket = service.copyToHost(new int[] {1}, buffer, new int[] {0});
            stall.entered.await();

            assertFalse(ticket.await(Duration.ofMillis(10)), "cannot finish while stalled");
            assertFalse(ticket.await(Duration.ZERO));
            assertFalse(ticket.isDone());
            assertFalse(ticket.failed());
            assertTrue(ticket.copyNanos().isEmpty(), "no copy time while it runs");

            stall.release();

            assertTrue(ticket.await(Duration.ofDays(365_000_000)), "a timeout too long for nanoseconds waits forever");
            assertTrue(ticket.isDone());
        }
    }

    @Test
    void awaitingIsInterruptible() throws Exception {
        KvTestSupport.StallFirst stall = new KvTestSupport.StallFirst();
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", stall);
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            CopyTicket ticket = service.copyToHost(new int[] {1}, buffer, new int[] {0});

            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, ticket::await);
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> ticket.await(Duration.ofMinutes(1)));

            stall.release();
            ticket.await();
        }
    }

    @Test
    void aClosedServiceRefusesAndClosesTheBuffersLeftOpen() {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER))) {
            EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
            HostBlockBuffer leaked = service.allocateHostBuffer(1);
            HostBlockBuffer returned = service.allocateHostBuffer(1);
            returned.close();

            service.close();
            service.close(); // idempotent

            var e = assertThrows(
                    IllegalStateException.class, () -> service.copyToHost(new int[] {1}, leaked, new int[] {0}));
            assertEquals("copy service copy-test is closed", e.getMessage());
            assertThrows(IllegalStateException.class, () -> service.copyFromHost(leaked, new int[] {0}, new int[] {1}));
            assertThrows(IllegalStateException.class, () -> service.allocateHostBuffer(1));
            assertThrows(IllegalStateException.class, () -> leaked.slot(0), "closed by the service");
            leaked.close(); // still idempotent for the connector
        }
    }

    @Test
    void closeLetsQueuedCopiesFinish() throws Exception {
        KvTestSupport.StallFirst stall = new KvTestSupport.StallFirst();
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER))) {
            EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", stall);
            HostBlockBuffer buffer = service.allocateHostBuffer(4);
            fill(memory, 1, 1);
            List<CopyTicket> tickets = new ArrayList<>();
            tickets.add(service.copyToHost(new int[] {1}, buffer, new int[] {0}));
            stall.entered.await();
            for (int slot = 1; slot < 4; slot++) {
                tickets.add(service.copyToHost(new int[] {1}, buffer, new int[] {slot}));
            }
            tickets.add(service.copyFromHost(buffer, new int[] {3}, new int[] {7}));

            Thread closer = Thread.ofPlatform().start(service::close);
            awaitRefusal(service, buffer);

            assertTrue(closer.isAlive(), "close waits for the stalled copy");
            assertTrue(tickets.stream().noneMatch(CopyTicket::isDone));
            stall.release();
            closer.join();

            assertTrue(tickets.stream().allMatch(t -> t.isDone() && !t.failed()));
            assertBlockHolds(memory, 7, 1);
            assertThrows(IllegalStateException.class, () -> buffer.slot(0), "the service closed the leaked buffer");
        }
    }

    @Test
    void closingFromTheStreamItselfIsRefused() throws Exception {
        AtomicReference<EngineBlockCopyService> self = new AtomicReference<>();
        CopyFaults closeSelf = (direction, blockIds) -> self.get().close();
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", closeSelf);
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            self.set(service);

            var e = assertThrows(
                    CopyFailedException.class, () -> service.copyToHost(new int[] {1}, buffer, new int[] {0})
                            .await());
            assertInstanceOf(IllegalStateException.class, e.getCause());
        }
    }

    @Test
    void aCopyAfterTheMemoryIsClosedFailsWithIllegalState() throws Exception {
        HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER));
        try (EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test");
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            memory.close();

            CopyTicket ticket = service.copyToHost(new int[] {1}, buffer, new int[] {0});

            var e = assertThrows(CopyFailedException.class, ticket::await);
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(ticket.failed());
        }
    }

    @Test
    void aBufferClosedUnderAQueuedCopyFailsThatCopy() throws Exception {
        KvTestSupport.StallFirst stall = new KvTestSupport.StallFirst();
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.PER_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", stall)) {
            HostBlockBuffer buffer = service.allocateHostBuffer(1);
            CopyTicket ticket = service.copyToHost(new int[] {1}, buffer, new int[] {0});
            stall.entered.await();
            buffer.close();
            stall.release();

            var e = assertThrows(CopyFailedException.class, ticket::await);
            assertInstanceOf(IllegalStateException.class, e.getCause());
        }
    }

    /** Waits until close has begun: copies are refused from then on. */
    private static void awaitRefusal(EngineBlockCopyService service, HostBlockBuffer buffer) {
        while (true) {
            try {
                service.copyToHost(new int[0], buffer, new int[0]);
            } catch (IllegalStateException closing) {
                return;
            }
            Thread.onSpinWait();
        }
    }
}
