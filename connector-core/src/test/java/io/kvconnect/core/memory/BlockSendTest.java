package io.kvconnect.core.memory;

import static io.kvconnect.core.memory.KvTestSupport.canonical;
import static io.kvconnect.core.memory.KvTestSupport.fill;
import static io.kvconnect.core.memory.KvTestSupport.layout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.BlockSend;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.kv.BlockGrants;
import io.kvconnect.core.kv.BlockPool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Sends straight out of the KV cache ({@link EngineBlockCopyService#openSend}): the bytes a copy
 * into a host buffer would give, in the order asked, and the same fence as copies, checked before
 * every write.
 */
@Timeout(60) // a safety net against a hung socket, not a timing assertion
class BlockSendTest {
    /** A loopback connection: the non-blocking sending end, the blocking receiving end. */
    private record Connection(SocketChannel sender, SocketChannel receiver) implements AutoCloseable {
        static Connection open() throws IOException {
            try (var server =
                    ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                SocketChannel sender = SocketChannel.open(server.getLocalAddress());
                SocketChannel receiver = server.accept();
                sender.configureBlocking(false);
                return new Connection(sender, receiver);
            }
        }

        /** Reads {@code bytes} on another thread while the caller writes. */
        CompletableFuture<byte[]> receive(long bytes) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    InputStream in = receiver.socket().getInputStream();
                    var out = new ByteArrayOutputStream();
                    byte[] chunk = new byte[64 * 1024];
                    while (out.size() < bytes) {
                        int n = in.read(chunk, 0, (int) Math.min(chunk.length, bytes - out.size()));
                        if (n < 0) {
                            break;
                        }
                        out.write(chunk, 0, n);
                    }
                    return out.toByteArray();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        @Override
        public void close() throws IOException {
            sender.close();
            receiver.close();
        }
    }

    /** Writes the whole send, yielding while the socket is full; returns how many calls took it. */
    private static int writeAll(BlockSend send, SocketChannel channel) throws Exception {
        int calls = 0;
        while (send.remaining() > 0) {
            calls++;
            if (send.writeTo(channel) == 0) {
                Thread.onSpinWait();
            }
        }
        return calls;
    }

    @ParameterizedTest
    @EnumSource(LayoutKind.class)
    void theBytesAreWhatACopyIntoSlotsInOrderWouldHold(LayoutKind kind) throws Exception {
        // A run (2, 3, 4), a block out of order (1), a repeat (3): every view kind and order.
        int[] ids = {2, 3, 4, 1, 3};
        try (HostKvMemory memory = HostKvMemory.allocate(layout(kind));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "send-test");
                Connection c = Connection.open()) {
            for (int b = 1; b <= 4; b++) {
                fill(memory, b, 10 * b);
            }
            BlockSend send = service.openSend(ids).orElseThrow();
            long blockBytes = memory.layout().bytesPerBlock();
            assertEquals(ids.length * blockBytes, send.bytes());

            CompletableFuture<byte[]> received = c.receive(send.bytes());
            writeAll(send, c.sender());

            byte[] got = received.get();
            assertEquals(send.bytes(), got.length);
            for (int i = 0; i < ids.length; i++) {
                var slot = java.lang.foreign.MemorySegment.ofArray(got).asSlice(i * blockBytes, blockBytes);
                assertEquals(-1, canonical(memory.layout(), 10 * ids[i]).mismatch(slot), "block " + i + " of the send");
            }
            assertEquals(send.bytes(), service.bytesSent());
            assertEquals(0, send.writeTo(c.sender()), "nothing remains");
        }
    }

    @Test
    void aSendLargerThanTheSocketTakesSeveralWritesAndLosesNothing() throws Exception {
        // 48 blocks of 256 KiB in one run: 12 MiB, more than a loopback socket buffers at once.
        KvLayout big = KvLayouts.of(new ModelShape("big", 2, 8, 128, DType.FP16), 0, 1, 64, 64, LayoutKind.CROSS_LAYER);
        int[] ids = new int[48];
        java.util.Arrays.setAll(ids, i -> i + 1);
        try (HostKvMemory memory = HostKvMemory.allocate(big);
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "send-test");
                Connection c = Connection.open()) {
            for (int id : ids) {
                memory.block(id).fill((byte) id);
            }
            BlockSend send = service.openSend(ids).orElseThrow();
            CompletableFuture<byte[]> received = c.receive(send.bytes());
            int calls = writeAll(send, c.sender());
            byte[] got = received.get();
            assertTrue(calls > 1, "the socket took 12 MiB in one write");
            long blockBytes = big.bytesPerBlock();
            for (int i = 0; i < ids.length; i++) {
                for (long o = 0; o < blockBytes; o += 4096) {
                    assertEquals((byte) ids[i], got[(int) (i * blockBytes + o)], "block " + i + " at " + o);
                }
            }
        }
    }

    @Test
    void aBlockNotInUseIsRefusedAtOpenAndOneFreedLaterFailsTheNextWriteBeforeItWrites() throws Exception {
        KvLayout layout = layout(LayoutKind.CROSS_LAYER);
        var pool = new BlockPool(layout.numBlocks(), layout.blockSize(), false);
        var grants = new BlockGrants(layout.numBlocks());
        try (HostKvMemory memory = HostKvMemory.allocate(layout);
                EngineBlockCopyService service = new EngineBlockCopyService(
                        memory, "send-test", CopyFaults.NONE, grants, new HostMemoryBudget(Long.MAX_VALUE));
                Connection c = Connection.open()) {
            int[] held = pool.allocate(3);
            grants.apply(pool.grants().takeChanges());
            int free = freeBlock(layout, held);

            var refused = assertThrows(CopyFailedException.class, () -> service.openSend(new int[] {held[0], free}));
            assertTrue(refused.getMessage().contains("block " + free + " is free"), refused.getMessage());

            BlockSend send = service.openSend(held).orElseThrow();
            pool.free(held[1]);
            grants.apply(pool.grants().takeChanges());
            var freed = assertThrows(CopyFailedException.class, () -> send.writeTo(c.sender()));
            assertTrue(freed.getMessage().contains("block " + held[1] + " was freed"), freed.getMessage());
            assertEquals(send.bytes(), send.remaining(), "nothing was written");
            assertEquals(0, service.bytesSent());
            assertEquals(1, service.refusedCopies().freed());
        }
    }

    private static int freeBlock(KvLayout layout, int[] held) {
        for (int id = 1; id < layout.numBlocks(); id++) {
            int candidate = id;
            if (java.util.Arrays.stream(held).noneMatch(h -> h == candidate)) {
                return id;
            }
        }
        throw new IllegalStateException("no free block");
    }

    @Test
    void aStepStartWaitsForTheWritesBegunBeforeItAndNotForThoseBegunAfter() throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "send-test")) {
            int[] ids = {1};
            int[] generations = {1}; // BlockGrants.everything: every block in use in generation 1
            var before = new HeldWrite();
            var after = new HeldWrite();
            var stepStarted = new CountDownLatch(1);
            // Daemons, and released in any case: a failed assertion must not leave them holding.
            var threads = Thread.ofPlatform().daemon(true);
            try {
                threads.start(() -> before.run(service, ids, generations));
                before.entered.await();
                threads.start(() -> {
                    service.awaitCopyInFlight();
                    stepStarted.countDown();
                });
                assertFalse(stepStarted.await(200, TimeUnit.MILLISECONDS), "the step start did not wait");

                // Begun while the step start waits: it must not be waited for.
                threads.start(() -> after.run(service, ids, generations));
                after.entered.await();
                before.release.countDown();
                assertTrue(stepStarted.await(10, TimeUnit.SECONDS), "the step start waited for a later write");
            } finally {
                before.release.countDown();
                after.release.countDown();
            }
            assertTrue(before.done.await(10, TimeUnit.SECONDS));
            assertTrue(after.done.await(10, TimeUnit.SECONDS));
            assertEquals(null, before.failure.get());
            assertEquals(null, after.failure.get());
        }
    }

    /** One write of a send that holds until released, as a slow socket write would. */
    private static final class HeldWrite {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        void run(EngineBlockCopyService service, int[] ids, int[] generations) {
            try {
                service.sendStep(ids, generations, () -> {
                    entered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                    return 0;
                });
            } catch (Exception | Error e) {
                failure.set(e);
                entered.countDown();
            } finally {
                done.countDown();
            }
        }
    }

    @Test
    void theNullBlockAndIdsOutOfRangeAreRefused() throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "send-test")) {
            assertThrows(IllegalArgumentException.class, () -> service.openSend(new int[] {1, 0}));
            assertThrows(IllegalArgumentException.class, () -> service.openSend(new int[] {KvTestSupport.BLOCKS}));
            assertThrows(IllegalArgumentException.class, () -> service.openSend(new int[] {-1}));
        }
    }

    @Test
    void aBlockingChannelIsRefusedAndSoIsAChannelOfAnotherClass() throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER));
                EngineBlockCopyService service = new EngineBlockCopyService(memory, "send-test");
                Connection c = Connection.open();
                SocketChannel keeping = new KeepingChannel()) {
            BlockSend send = service.openSend(new int[] {1, 2}).orElseThrow();
            c.sender().configureBlocking(true);
            var blocking = assertThrows(IllegalArgumentException.class, () -> send.writeTo(c.sender()));
            assertTrue(blocking.getMessage().contains("non-blocking"), blocking.getMessage());
            var foreign = assertThrows(IllegalArgumentException.class, () -> send.writeTo(keeping));
            assertTrue(foreign.getMessage().contains("JDK's own"), foreign.getMessage());
            assertEquals(0, KeepingChannel.kept, "the foreign channel never saw a view of the cache");
            assertEquals(send.bytes(), send.remaining());
        }
    }

    @Test
    void aClosedServiceOpensNoSendAndEndsOneInProgress() throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER));
                Connection c = Connection.open()) {
            var service = new EngineBlockCopyService(memory, "send-test");
            BlockSend send = service.openSend(new int[] {1}).orElseThrow();
            service.close();
            assertThrows(IllegalStateException.class, () -> service.openSend(new int[] {1}));
            var e = assertThrows(CopyFailedException.class, () -> send.writeTo(c.sender()));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }

    @Test
    void underInjectedFaultsTheConnectorIsToldToCopyInstead() throws Exception {
        try (HostKvMemory memory = HostKvMemory.allocate(layout(LayoutKind.CROSS_LAYER));
                EngineBlockCopyService service =
                        new EngineBlockCopyService(memory, "send-test", new KvTestSupport.StallFirst())) {
            assertTrue(service.openSend(new int[] {1}).isEmpty());
        }
    }

    /** A socket channel of a class outside the JDK, which could keep the buffers it is handed. */
    private static final class KeepingChannel extends SocketChannel {
        static int kept;

        KeepingChannel() {
            super(SelectorProvider.provider());
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            kept++;
            return 0;
        }

        @Override
        public int write(ByteBuffer src) {
            kept++;
            return 0;
        }

        @Override
        public SocketChannel bind(SocketAddress local) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <T> SocketChannel setOption(SocketOption<T> name, T value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <T> T getOption(SocketOption<T> name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Set<SocketOption<?>> supportedOptions() {
            return Set.of();
        }

        @Override
        public SocketChannel shutdownInput() {
            throw new UnsupportedOperationException();
        }

        @Override
        public SocketChannel shutdownOutput() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Socket socket() {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isConnected() {
            return true;
        }

        @Override
        public boolean isConnectionPending() {
            return false;
        }

        @Override
        public boolean connect(SocketAddress remote) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean finishConnect() {
            return true;
        }

        @Override
        public SocketAddress getRemoteAddress() {
            return null;
        }

        @Override
        public int read(ByteBuffer dst) {
            return -1;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) {
            return -1;
        }

        @Override
        public SocketAddress getLocalAddress() {
            return null;
        }

        @Override
        protected void implCloseSelectableChannel() {}

        @Override
        protected void implConfigureBlocking(boolean block) {}
    }
}
