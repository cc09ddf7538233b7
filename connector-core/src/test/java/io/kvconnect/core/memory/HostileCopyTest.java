package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.layout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.kv.BlockGrants;
import io.kvconnect.core.kv.BlockPool;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a hostile or careless connector can do to the engine through the copy service while its
 * copies run: the engine's bookkeeping must stay with the request a copy was meant for.
 */
@Timeout(60)
class HostileCopyTest {
    @Test
    void aLoadCopyStillRunningWhenItsBlockIsReallocatedDoesNotMarkTheNewOwnersLoad() throws Exception {
        KvLayout layout = layout(LayoutKind.PER_LAYER);
        BlockPool pool = new BlockPool(layout.numBlocks(), layout.blockSize(), false);
        BlockGrants grants = new BlockGrants(layout.numBlocks());
        int[] all = pool.allocate(pool.numFreeBlocks());
        int block = all[0];
        pool.grants().grantLoad(block);
        grants.apply(pool.grants().takeChanges());
        try (GatedMemory memory = new GatedMemory(HostKvMemory.allocate(layout));
                EngineBlockCopyService service = new EngineBlockCopyService(
                        memory, "copy-test", CopyFaults.NONE, grants, new HostMemoryBudget(Long.MAX_VALUE));
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            AtomicReference<CopyTicket> ticket = new AtomicReference<>();
            Thread loader = Thread.ofPlatform()
                    .start(() -> ticket.set(service.copyFromHost(buffer, new int[] {0}, new int[] {block})));
            memory.entered.await(); // the copy passed its checks and is moving bytes

            // The engine frees the block and hands it to another request's load; the worker begins
            // the step that says so while the first request's copy still runs.
            pool.free(block);
            assertEquals(block, pool.allocate(1)[0]);
            pool.grants().grantLoad(block);
            grants.apply(pool.grants().takeChanges());
            memory.release();
            loader.join();
            ticket.get().await();

            assertFalse(grants.loaded(block), "the new owner's load was never copied");
        }
    }

    @Test
    void aPinnedBufferClosedWhileADeviceCopyMovesItsBytesIsFreedOnlyOnceTheCopyEnded() throws Exception {
        GatedCuda calls = new GatedCuda();
        try (DeviceKvMemory memory =
                        DeviceKvMemory.allocate(DeviceKvMemoryTest.deviceLayout(LayoutKind.CROSS_LAYER), calls);
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "device-copy")) {
            HostBlockBuffer buffer = service.allocateHostBuffer(1);
            AtomicReference<CopyTicket> ticket = new AtomicReference<>();
            Thread storer = Thread.ofPlatform()
                    .start(() -> ticket.set(service.copyToHost(new int[] {1}, buffer, new int[] {0})));
            calls.entered.await(); // the device copy into the buffer is under way

            buffer.close(); // from another thread than the copy's, as a connector's own thread would
            calls.release();
            storer.join();
            ticket.get().await();

            assertFalse(calls.freedUnderACopy, "the pinned memory was freed while the device copied into it");
            assertEquals(0, calls.fake.livePinned.get(), "freed once the copy ended");
        }
    }

    @Test
    void copiesAskedForFasterThanTheyRunAreRefusedOnceTheQueueIsFull() throws Exception {
        CountDownLatch stalled = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CopyFaults stallFirst = (direction, ids) -> {
            if (stalled.getCount() > 0) {
                stalled.countDown();
                release.await(); // the stream holds its first copy: later ones queue behind it
            }
        };
        KvLayout layout = layout(LayoutKind.PER_LAYER);
        try (HostKvMemory memory = HostKvMemory.allocate(layout);
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "copy-test", stallFirst);
                HostBlockBuffer buffer = service.allocateHostBuffer(1)) {
            List<CopyTicket> tickets = new ArrayList<>();
            tickets.add(service.copyToHost(new int[] {1}, buffer, new int[] {0}));
            stalled.await();
            // A connector's thread that asks and never awaits: without a bound the queue, and the
            // heap, would grow as long as it went on.
            for (int i = 0; i < EngineBlockCopyService.MAX_QUEUED_COPIES; i++) {
                tickets.add(service.copyToHost(new int[] {1}, buffer, new int[] {0}));
            }
            CopyTicket refused = service.copyToHost(new int[] {1}, buffer, new int[] {0});

            CopyFailedException e = assertThrows(CopyFailedException.class, refused::await);
            assertTrue(e.getMessage().contains("copies already wait"), e.getMessage());
            assertEquals(1, service.refusedCopies().queueFull());
            release.countDown();
            for (CopyTicket t : tickets) {
                t.await(); // every queued copy still runs
            }
            service.copyToHost(new int[] {1}, buffer, new int[] {0}).await(); // and the stream takes more
        }
    }

    /** Host memory whose first access by a copy waits until the test releases it. */
    static final class GatedMemory implements KvMemory {
        final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        private final AtomicBoolean first = new AtomicBoolean(true);
        private final KvMemory memory;

        GatedMemory(KvMemory memory) {
            this.memory = memory;
        }

        void release() {
            released.countDown();
        }

        private void gate() {
            if (first.compareAndSet(true, false)) {
                entered.countDown();
                try {
                    released.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }

        @Override
        public KvLayout layout() {
            return memory.layout();
        }

        @Override
        public MemorySegment blockLayer(int blockId, int layer) {
            gate();
            return memory.blockLayer(blockId, layer);
        }

        @Override
        public MemorySegment block(int blockId) {
            gate();
            return memory.block(blockId);
        }

        @Override
        public MemorySegment blocks(int firstBlock, int count) {
            gate();
            return memory.blocks(firstBlock, count);
        }

        @Override
        public void close() {
            memory.close();
        }
    }

    /**
     * Host-fake CUDA whose first copy waits until the test releases it, and which records whether
     * pinned memory was freed while a copy was in flight (issued, its stream not yet synchronized):
     * on a real device the copy would then read or write freed memory.
     */
    static final class GatedCuda implements CudaCalls {
        final HostFakeCudaCalls fake = new HostFakeCudaCalls();
        final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        private final AtomicBoolean first = new AtomicBoolean(true);
        private volatile boolean copying;
        volatile boolean freedUnderACopy;

        void release() {
            released.countDown();
        }

        private void gate() {
            copying = true;
            if (first.compareAndSet(true, false)) {
                entered.countDown();
                try {
                    released.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }

        @Override
        public int device() {
            return fake.device();
        }

        @Override
        public DeviceMemory allocate(long bytes) {
            return fake.allocate(bytes);
        }

        @Override
        public void free(DeviceMemory memory) {
            fake.free(memory);
        }

        @Override
        public PinnedMemory allocatePinned(long bytes) {
            return fake.allocatePinned(bytes);
        }

        @Override
        public void freePinned(PinnedMemory memory) {
            if (copying) {
                freedUnderACopy = true;
            }
            fake.freePinned(memory);
        }

        @Override
        public Stream newStream() {
            return fake.newStream();
        }

        @Override
        public void destroy(Stream stream) {
            fake.destroy(stream);
        }

        @Override
        public Event newEvent() {
            return fake.newEvent();
        }

        @Override
        public void destroy(Event event) {
            fake.destroy(event);
        }

        @Override
        public void copyToHost(
                MemorySegment dst,
                long dstPitch,
                DeviceMemory src,
                long srcOffset,
                long srcPitch,
                long rowBytes,
                long rows,
                Stream stream) {
            gate();
            fake.copyToHost(dst, dstPitch, src, srcOffset, srcPitch, rowBytes, rows, stream);
        }

        @Override
        public void copyToDevice(
                DeviceMemory dst,
                long dstOffset,
                long dstPitch,
                MemorySegment src,
                long srcPitch,
                long rowBytes,
                long rows,
                Stream stream) {
            gate();
            fake.copyToDevice(dst, dstOffset, dstPitch, src, srcPitch, rowBytes, rows, stream);
        }

        @Override
        public void record(Event event, Stream stream) {
            fake.record(event, stream);
        }

        @Override
        public void waitFor(Stream stream, Event event) {
            fake.waitFor(stream, event);
        }

        @Override
        public void synchronize(Event event) {
            fake.synchronize(event);
            copying = false;
        }
    }
}
