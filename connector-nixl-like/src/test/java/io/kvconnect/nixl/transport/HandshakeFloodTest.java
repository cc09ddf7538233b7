package io.kvconnect.nixl.transport;

import static io.kvconnect.nixl.transport.TcpTransportTest.T1;
import static io.kvconnect.nixl.transport.TcpTransportTest.compat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.SharedSecret;
import io.kvconnect.nixl.protocol.TransferException;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Floods of unauthenticated connections on loopback against one producer listener: hellos that
 * announce a MiB each, connections that never say a word. The listener's handshake threads stay
 * within its cap, nothing is allocated for what a stranger announces, a silent connection is closed
 * at the handshake timeout, and a reader with the secret is served during and after the flood.
 * Counts and waits are bounded: every connection the test opens, it closes.
 */
class HandshakeFloodTest {
    private static final ModelShape MODEL = new ModelShape("m", 2, 2, 16, DType.FP16);
    private static final String SECRET = "right";
    /** Liveness bound on any one wait of this test. */
    private static final int BOUND_MILLIS = 20_000;

    private static Listener listen(TcpTransportTest.Source source, Duration handshakeTimeout, int maxPending)
            throws IOException {
        return new TcpTransport()
                .listen(
                        "127.0.0.1",
                        0,
                        compat("prefill", MODEL, 4),
                        new ListenOptions(SharedSecret.of(SECRET), handshakeTimeout, maxPending),
                        source);
    }

    /** A reader with the secret reads two blocks on a connection of its own. */
    private static void readAsAReader(Listener listener, long blockBytes) throws TransferException {
        var options = new ConnectOptions(SharedSecret.of(SECRET), Duration.ofSeconds(10), Duration.ofSeconds(10), 64);
        try (var into = new ArenaBlockBuffer(2, blockBytes);
                var peer =
                        new TcpTransport().connect("127.0.0.1", listener.port(), compat("decode", MODEL, 4), options)) {
            peer.read(T1, new int[] {3, 5}, into);
            assertEquals(5, into.slot(1).get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    /** Live threads serving connections of the listener on {@code port}, handshaking or authenticated. */
    private static int servingThreads(int port) {
        String prefix = "nixl-serve-" + port + "-";
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }

    /** Samples {@link #servingThreads} until stopped; the most seen. */
    private static final class ThreadSampler implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicInteger max = new AtomicInteger();
        private final Thread sampler;

        ThreadSampler(int port) {
            sampler = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (!stop.get()) {
                        max.accumulateAndGet(servingThreads(port), Math::max);
                        Thread.sleep(1);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        int max() {
            return max.get();
        }

        @Override
        public void close() {
            stop.set(true);
            try {
                sampler.join(BOUND_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether the producer closed {@code s} (end of stream or reset) within the bound. */
    private static boolean closedByProducer(Socket s) throws IOException {
        s.setSoTimeout(BOUND_MILLIS);
        InputStream in = s.getInputStream();
        byte[] sink = new byte[256];
        try {
            while (in.read(sink) >= 0) {
                // the challenge, maybe a refusal: read on
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Adds the listener's counters up (they are reported since the last call) until {@code done} holds. */
    private static Map<String, Long> countersUntil(
            Listener listener, Map<String, Long> sum, Predicate<Map<String, Long>> done) throws InterruptedException {
        long deadline = System.nanoTime() + BOUND_MILLIS * 1_000_000L;
        while (true) {
            listener.takeCounters().forEach((k, v) -> sum.merge(k, v, Long::sum));
            if (done.test(sum) || System.nanoTime() > deadline) {
                return sum;
            }
            Thread.sleep(5);
        }
    }

    @Test
    void helloesAnnouncingAMebibyteAreRefusedOnTheirHeaderWhileReadersAreServed() throws Exception {
        int maxPending = 16;
        int attackers = 4;
        int perAttacker = 40;
        var source = new TcpTransportTest.Source(compat("prefill", MODEL, 4).bytesPerBlock());
        // A minute to complete a handshake: a listener that waited for the announced payload would
        // hold every connection far past this test's bound.
        try (var listener = listen(source, Duration.ofMinutes(1), maxPending);
                var sampler = new ThreadSampler(listener.port())) {
            List<Throwable> problems = new CopyOnWriteArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int a = 0; a < attackers; a++) {
                threads.add(Thread.ofPlatform().daemon().name("test-flood-" + a).start(() -> {
                    List<Socket> held = new ArrayList<>();
                    try {
                        for (int i = 0; i < perAttacker; i++) {
                            Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port());
                            held.add(s);
                            // A hello header announcing 1 MiB; the payload never follows.
                            var out = new DataOutputStream(s.getOutputStream());
                            out.writeInt(Frames.MAGIC);
                            out.writeByte(Frames.HELLO);
                            out.writeInt(1 << 20);
                            out.flush();
                        }
                        for (Socket s : held) {
                            if (!closedByProducer(s)) {
                                problems.add(new AssertionError("a connection announcing 1 MiB stayed open"));
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        problems.add(e);
                    } finally {
                        for (Socket s : held) {
                            try {
                                s.close();
                            } catch (IOException e) {
                                // closing anyway
                            }
                        }
                    }
                }));
            }
            // During the flood: each reader connection is served, reconnecting at most twice if its
            // handshake was the oldest pending one when the slots were all taken.
            int readers = 5;
            for (int r = 0; r < readers; r++) {
                readWithUpToThreeAttempts(listener, source.blockBytes, problems);
            }
            for (Thread t : threads) {
                t.join(BOUND_MILLIS * 2L);
            }
            // And after it.
            readAsAReader(listener, source.blockBytes);
            assertEquals(List.of(), problems);

            int attacks = attackers * perAttacker;
            Map<String, Long> counters = countersUntil(
                    listener,
                    new TreeMap<>(),
                    m -> m.getOrDefault("handshakes_refused_frame", 0L)
                                    + m.getOrDefault("handshakes_evicted", 0L)
                                    + m.getOrDefault("connections_refused_busy", 0L)
                            >= attacks);
            // Every attacking connection was refused on its header, or closed for a newer one.
            assertTrue(counters.getOrDefault("handshakes_refused_frame", 0L) > 0, counters.toString());
            assertEquals(
                    attacks,
                    counters.getOrDefault("handshakes_refused_frame", 0L)
                            + counters.getOrDefault("handshakes_evicted", 0L)
                            + counters.getOrDefault("connections_refused_busy", 0L),
                    counters.toString());
            assertEquals(0L, counters.getOrDefault("handshakes_timed_out", 0L), counters.toString());
            // Handshake threads within the cap, plus the reader's own connection (and one that was ending).
            assertTrue(
                    sampler.max() > 0 && sampler.max() <= maxPending + 2,
                    "up to " + sampler.max() + " threads served connections");
        }
    }

    private static void readWithUpToThreeAttempts(Listener listener, long blockBytes, List<Throwable> problems) {
        for (int attempt = 1; ; attempt++) {
            try {
                readAsAReader(listener, blockBytes);
                return;
            } catch (TransferException e) {
                if (attempt == 3) {
                    problems.add(e);
                    return;
                }
            }
        }
    }

    @Test
    void silentConnectionsCannotLockAReaderOut() throws Exception {
        int maxPending = 4;
        int silent = 12;
        var source = new TcpTransportTest.Source(compat("prefill", MODEL, 4).bytesPerBlock());
        List<Socket> held = new ArrayList<>();
        try (var listener = listen(source, Duration.ofMinutes(1), maxPending);
                var sampler = new ThreadSampler(listener.port())) {
            for (int i = 0; i < silent; i++) {
                held.add(new Socket(InetAddress.getLoopbackAddress(), listener.port()));
            }
            // Each connection beyond the cap closed the oldest pending one.
            int closed = 0;
            for (Socket s : held.subList(0, silent - maxPending)) {
                closed += closedByProducer(s) ? 1 : 0;
            }
            assertEquals(silent - maxPending, closed);
            // With every slot held by a silent stranger, a reader is still served.
            readAsAReader(listener, source.blockBytes);
            Map<String, Long> counters = countersUntil(
                    listener,
                    new TreeMap<>(),
                    m -> m.getOrDefault("handshakes_evicted", 0L) >= silent - maxPending + 1);
            assertEquals(silent - maxPending + 1, counters.get("handshakes_evicted"), counters.toString());
            assertEquals(1L, counters.get("handshakes_ok"), counters.toString());
            // Handshake threads within the cap, plus the reader's (and one that was ending).
            assertTrue(
                    sampler.max() > 0 && sampler.max() <= maxPending + 2,
                    "up to " + sampler.max() + " threads served connections");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void aSilentConnectionIsClosedAtTheHandshakeTimeout() throws Exception {
        var source = new TcpTransportTest.Source(compat("prefill", MODEL, 4).bytesPerBlock());
        try (var listener = listen(source, Duration.ofMillis(200), 4);
                var s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
            assertTrue(closedByProducer(s), "the silent connection stayed open");
            // Counted before the connection was closed.
            assertEquals(Map.of("handshakes_timed_out", 1L), listener.takeCounters());
            readAsAReader(listener, source.blockBytes);
        }
    }
}
