package io.kvconnect.nixl.faults;

import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.transport.BlockSource;
import io.kvconnect.nixl.transport.ConnectOptions;
import io.kvconnect.nixl.transport.ListenOptions;
import io.kvconnect.nixl.transport.Listener;
import io.kvconnect.nixl.transport.Peer;
import io.kvconnect.nixl.transport.Transport;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A transport that injects {@link TransportFaults} into another one's connections: a test and soak
 * aid, used only when the configuration has a {@code faults} object, so the serving path of a
 * normal configuration is untouched.
 *
 * <p><b>How.</b> {@link #listen} starts the wrapped backend's listener on a free port and, at the
 * requested address, a frame-aware relay in front of it: every connection a reader opens is relayed
 * to the real listener by two threads (one per direction) that parse the framing ({@link
 * Frames}: magic, type, length, payload) and, per frame, drop it, cut it short and close,
 * delay it, or close the connection before it. Faults thus hit the real wire protocol, handshake
 * included, and both sides see them exactly as they would see a lossy network or a dying peer: a
 * dropped answer ends by the reader's timeout, a cut frame as {@code TRUNCATED}, a closed
 * connection as a failed transfer. With the UCX backend the relay carries the control connection;
 * the tagged messages that carry the blocks go over UCX untouched. {@link #connect} is the wrapped backend's:
 * faults are injected where the producer serves, so configuring them on the producer is enough.
 *
 * <p>Counts of injected faults by kind ({@code faults_injected_drop}, ...) are reported through
 * {@link #takeCounters()} into the worker's stats. Thread-safe.
 */
public final class FaultyTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(FaultyTransport.class);

    private final Transport inner;
    private final TransportFaults faults;
    private final SplittableRandom seeds;
    private final Map<String, AtomicLong> injected = new ConcurrentHashMap<>();

    public FaultyTransport(Transport inner, TransportFaults faults) {
        this.inner = inner;
        this.faults = faults;
        this.seeds = new SplittableRandom(faults.seed());
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public Listener listen(String host, int port, Compat local, ListenOptions options, BlockSource source)
            throws IOException {
        Listener real = inner.listen(host, 0, local, options, source);
        try {
            Relay relay = new Relay(host, port, real);
            relay.start(local.engineId() + "-" + local.rank());
            LOG.warn(
                    "nixl-like: injecting transport faults ({}) on {}:{} (relaying to port {}); a test aid, never "
                            + "for serving",
                    faults,
                    host,
                    relay.port(),
                    real.port());
            return relay;
        } catch (IOException | RuntimeException e) {
            real.close();
            throw e;
        }
    }

    @Override
    public Peer connect(String host, int port, Compat local, ConnectOptions options) throws TransferException {
        return inner.connect(host, port, local, options);
    }

    @Override
    public Map<String, Long> takeCounters() {
        Map<String, Long> out = new TreeMap<>();
        injected.forEach((k, v) -> {
            long n = v.getAndSet(0);
            if (n > 0) {
                out.put(k, n);
            }
        });
        return out;
    }

    private void count(String kind) {
        injected.computeIfAbsent("faults_injected_" + kind, k -> new AtomicLong())
                .incrementAndGet();
    }

    private SplittableRandom nextRandom() {
        synchronized (seeds) {
            return seeds.split();
        }
    }

    /** What happens to one frame. */
    private enum Fate {
        FORWARD,
        DROP,
        TRUNCATE,
        DELAY,
        KILL
    }

    private Fate decide(SplittableRandom random, int length) {
        double r = random.nextDouble();
        if ((r -= faults.kill()) < 0) {
            return Fate.KILL;
        }
        if ((r -= faults.drop()) < 0) {
            return Fate.DROP;
        }
        if ((r -= faults.truncate()) < 0) {
            // Only a frame with a payload can be cut inside it.
            return length > 0 ? Fate.TRUNCATE : Fate.FORWARD;
        }
        if ((r - faults.delay()) < 0) {
            return Fate.DELAY;
        }
        return Fate.FORWARD;
    }

    /** The relaying listener: accepts readers and relays each to the real listener. */
    private final class Relay implements Listener {
        private final String host;
        private final ServerSocketChannel server;
        private final Listener real;
        private final int port;
        private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
        private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
        private volatile boolean closed;

        Relay(String host, int port, Listener real) throws IOException {
            this.host = host;
            this.real = real;
            this.server = ServerSocketChannel.open();
            try {
                server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                server.bind(new InetSocketAddress(InetAddress.getByName(host), port), 64);
                this.port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            } catch (IOException e) {
                server.close();
                throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
            }
        }

        void start(String who) {
            spawn("nixl-fault-accept-" + who, this::acceptLoop);
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public Map<String, Long> takeCounters() {
            return real.takeCounters();
        }

        private void spawn(String name, Runnable body) {
            Thread t = Thread.ofPlatform().daemon().name(name).unstarted(() -> {
                try {
                    body.run();
                } finally {
                    threads.remove(Thread.currentThread());
                }
            });
            threads.add(t);
            t.start();
        }

        private void acceptLoop() {
            while (!closed) {
                SocketChannel client = null;
                SocketChannel upstream = null;
                try {
                    client = server.accept();
                    open.add(client);
                    upstream = SocketChannel.open(new InetSocketAddress(InetAddress.getByName(host), real.port()));
                    open.add(upstream);
                    client.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    upstream.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    if (closed) {
                        closePair(client, upstream);
                        return;
                    }
                    SocketChannel c = client;
                    SocketChannel u = upstream;
                    SplittableRandom toServer = nextRandom();
                    SplittableRandom toClient = nextRandom();
                    spawn("nixl-fault-up-" + port, () -> pump(c, u, c, u, toServer));
                    spawn("nixl-fault-down-" + port, () -> pump(u, c, c, u, toClient));
                } catch (IOException | RuntimeException e) {
                    closePair(client, upstream);
                    if (!closed) {
                        LOG.debug(
                                "nixl-like: fault relay on port {} could not relay a connection: {}",
                                port,
                                e.toString());
                    }
                }
            }
        }

        /** Relays frames from {@code from} to {@code to} until either side ends, injecting faults. */
        private void pump(
                SocketChannel from,
                SocketChannel to,
                SocketChannel client,
                SocketChannel upstream,
                SplittableRandom random) {
            ByteBuffer header = ByteBuffer.allocate(Frames.HEADER_BYTES);
            ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
            try {
                while (!closed) {
                    header.clear();
                    if (!fill(from, header)) {
                        return; // end of stream at a frame boundary
                    }
                    int length = header.getInt(5);
                    Fate fate = header.getInt(0) == Frames.MAGIC && faults.hits(header.get(4))
                            ? decide(random, length)
                            : Fate.FORWARD;
                    switch (fate) {
                        case KILL -> {
                            count("kill");
                            return;
                        }
                        case DROP -> {
                            count("drop");
                            relay(from, null, Math.max(0, length), chunk);
                            continue;
                        }
                        case TRUNCATE -> {
                            count("truncate");
                            header.flip();
                            writeFully(to, header);
                            relay(from, to, random.nextInt(length), chunk);
                            return;
                        }
                        case DELAY -> {
                            count("delay");
                            Thread.sleep(faults.delayMillis());
                        }
                        case FORWARD -> {}
                    }
                    header.flip();
                    writeFully(to, header);
                    if (length < 0) {
                        // Not a frame this relay understands: pass the rest through unchanged.
                        relay(from, to, Long.MAX_VALUE, chunk);
                        return;
                    }
                    relay(from, to, length, chunk);
                }
            } catch (IOException | RuntimeException e) {
                // The connection ended (or was closed by the other direction): nothing to report.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                closePair(client, upstream);
            }
        }

        /** Reads {@code dst} full; false on end of stream before its first byte. */
        private static boolean fill(SocketChannel from, ByteBuffer dst) throws IOException {
            while (dst.hasRemaining()) {
                if (from.read(dst) < 0) {
                    if (dst.position() == 0) {
                        return false;
                    }
                    throw new EOFException("end of stream inside a frame header");
                }
            }
            return true;
        }

        /** Moves {@code n} bytes from {@code from} to {@code to} ({@code null}: discards them) in chunks. */
        private static void relay(SocketChannel from, SocketChannel to, long n, ByteBuffer chunk) throws IOException {
            long left = n;
            while (left > 0) {
                chunk.clear();
                chunk.limit((int) Math.min(chunk.capacity(), left));
                int r = from.read(chunk);
                if (r < 0) {
                    if (n == Long.MAX_VALUE) {
                        return;
                    }
                    throw new EOFException("end of stream inside a frame");
                }
                left -= r;
                chunk.flip();
                if (to != null) {
                    writeFully(to, chunk);
                }
            }
        }

        private static void writeFully(SocketChannel to, ByteBuffer src) throws IOException {
            while (src.hasRemaining()) {
                to.write(src);
            }
        }

        private void closePair(SocketChannel a, SocketChannel b) {
            for (SocketChannel c : new SocketChannel[] {a, b}) {
                if (c != null) {
                    open.remove(c);
                    try {
                        c.close();
                    } catch (IOException e) {
                        // closing anyway
                    }
                }
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                server.close();
            } catch (IOException e) {
                // closing anyway
            }
            for (SocketChannel c : open) {
                try {
                    c.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
            try {
                for (Thread t : threads) {
                    t.interrupt();
                    t.join(2_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            real.close();
        }
    }
}
