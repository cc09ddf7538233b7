package io.kvconnect.core.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.core.config.KvEventsConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The publisher never waits for its sink: a slow sink drops and counts; a lost socket reconnects. */
class KvEventPublisherTest {
    private static final List<KvEvent> STEP = List.of(
            new KvEvent.BlockStored(List.of(new BlockHash(1, 2, 3, 4)), Optional.empty(), 16, 0, StorageMedium.REMOTE));

    /** A sink whose first write waits until the test lets it go. */
    private static final class StuckSink implements LineSink {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<String> lines = new CopyOnWriteArrayList<>();

        @Override
        public void write(String line) throws IOException {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            lines.add(line);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }

    @Test
    void aSlowSinkMakesThePublisherDropAndCountNeverWait() throws Exception {
        StuckSink sink = new StuckSink();
        KvEventPublisher p = new KvEventPublisher("e", "h", 1, 3, sink);
        p.publish(STEP);
        sink.entered.await(); // the thread holds the first batch in a write that does not return
        for (int i = 0; i < 10; i++) {
            p.publish(STEP); // three fit in the queue, the rest are dropped at once
        }
        assertEquals(7, p.droppedQueueFull());
        sink.release.countDown();
        p.close();
        assertEquals(4, sink.lines.size());
        assertEquals(4, p.published());
        assertTrue(sink.lines.get(0).contains("\"seq\":0"), sink.lines.get(0));
        assertTrue(sink.lines.get(1).contains("\"seq\":1"), sink.lines.get(1));
        assertTrue(sink.lines.get(0).contains("\"medium\":\"REMOTE\""), "the medium of a shared store: " + sink.lines);
    }

    /** A sink that keeps its lines and the thread that wrote the first. */
    private static final class RecordingSink implements LineSink {
        final CountDownLatch first = new CountDownLatch(1);
        final CountDownLatch second = new CountDownLatch(2);
        final List<String> lines = new CopyOnWriteArrayList<>();
        volatile Thread writer;

        @Override
        public void write(String line) {
            writer = Thread.currentThread();
            lines.add(line);
            first.countDown();
            second.countDown();
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }

    @Test
    @Timeout(30)
    void anInterruptFromAnyoneButCloseDoesNotStopThePublisher() throws Exception {
        RecordingSink sink = new RecordingSink();
        KvEventPublisher p = new KvEventPublisher("e", "h", 1, 8, sink);
        p.publish(STEP);
        sink.first.await();
        // A plugin's thread can reach every thread of the process and interrupt it while it waits.
        sink.writer.interrupt();

        p.publish(STEP);
        sink.second.await(); // before the fix the thread had ended, and this waited forever

        p.close();
        assertEquals(2, p.published());
        assertEquals(2, sink.lines.size());
    }

    @Test
    void aLostConsumerIsReconnectedAfterAPauseAndLinesMeanwhileFailAtOnce() throws Exception {
        AtomicLong now = new AtomicLong();
        try (ServerSocket server = new ServerSocket(0)) {
            TcpLineSink sink = new TcpLineSink("127.0.0.1", server.getLocalPort(), now::get);
            sink.write("one");
            sink.flush();
            try (Socket first = server.accept();
                    BufferedReader in =
                            new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8))) {
                assertEquals("one", in.readLine());
            } // the consumer goes away
            // Writing into a closed connection fails once the peer's reset arrives.
            IOException lost = assertThrows(IOException.class, () -> {
                for (int i = 0; i < 10_000; i++) {
                    sink.write("x".repeat(1024));
                    sink.flush();
                }
            });
            assertTrue(lost.getMessage() != null);
            assertThrows(IOException.class, () -> sink.write("during the pause"), "no connection attempt yet");
            assertEquals(1, sink.connects());

            now.addAndGet(TcpLineSink.MIN_PAUSE_NANOS); // the pause is over
            sink.write("two");
            sink.flush();
            try (Socket second = server.accept();
                    BufferedReader in = new BufferedReader(
                            new InputStreamReader(second.getInputStream(), StandardCharsets.UTF_8))) {
                assertEquals("two", in.readLine());
            }
            assertEquals(2, sink.connects());
            sink.close();
        }
    }

    @Test
    void aSinkIsAFileOrATcpAddress() {
        assertEquals(new KvEventsConfig.Tcp("router.local", 5557), KvEventsConfig.Sink.parse("tcp:router.local:5557"));
        assertTrue(KvEventsConfig.Sink.parse("file:/tmp/kv.jsonl") instanceof KvEventsConfig.File);
        var e = assertThrows(IllegalArgumentException.class, () -> KvEventsConfig.Sink.parse("zmq://x:1"));
        assertTrue(e.getMessage().contains("file:<path>"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KvEventsConfig.Sink.parse("tcp:host:99999"));
    }
}
