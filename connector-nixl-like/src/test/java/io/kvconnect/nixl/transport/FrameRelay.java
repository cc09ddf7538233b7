package io.kvconnect.nixl.transport;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A party on the path between readers and a producer, for tests: it accepts connections on a
 * loopback port, relays each to the producer's port frame by frame, records every frame and lets
 * the test rewrite frames in either direction. Relays until either side closes; {@link #close()}
 * ends everything.
 */
final class FrameRelay implements AutoCloseable {
    /**
     * One frame as it crossed the relay.
     *
     * @param toReader whether it went from the producer to the reader
     * @param type the message type
     * @param payload the payload
     */
    record Frame(boolean toReader, byte type, byte[] payload) {}

    /** Rewrites a frame on its way; returns the frame to forward instead (the same to pass it on). */
    interface Rewrite {
        Frame apply(Frame frame);
    }

    /** Every frame forwarded, in order per direction, as it arrived (before any rewrite). */
    final List<Frame> frames = new CopyOnWriteArrayList<>();

    private final ServerSocket server;
    private final int upstreamPort;
    private final Rewrite rewrite;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    FrameRelay(int upstreamPort, Rewrite rewrite) throws IOException {
        this.upstreamPort = upstreamPort;
        this.rewrite = rewrite;
        this.server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        this.acceptor = Thread.ofPlatform().daemon().name("test-relay-accept").start(this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket reader = server.accept();
                Socket producer = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                open.add(reader);
                open.add(producer);
                Thread.ofPlatform().daemon().name("test-relay-up").start(() -> pump(reader, producer, false));
                Thread.ofPlatform().daemon().name("test-relay-down").start(() -> pump(producer, reader, true));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(Socket from, Socket to, boolean toReader) {
        try {
            var in = new DataInputStream(new BufferedInputStream(from.getInputStream()));
            var out = new DataOutputStream(to.getOutputStream());
            while (true) {
                int magic = in.readInt();
                byte type = in.readByte();
                byte[] payload = new byte[in.readInt()];
                in.readFully(payload);
                Frame f = new Frame(toReader, type, payload);
                frames.add(f);
                Frame forward = rewrite.apply(f);
                out.writeInt(magic);
                out.writeByte(forward.type());
                out.writeInt(forward.payload().length);
                out.write(forward.payload());
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            // Either side closed: close both.
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /** The payload of the first frame of {@code type} that went {@code toReader} (or the other way). */
    byte[] first(boolean toReader, byte type) {
        return frames.stream()
                .filter(f -> f.toReader() == toReader && f.type() == type)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no frame of type " + type + " crossed the relay"))
                .payload();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        open.forEach(FrameRelay::closeQuietly);
        try {
            acceptor.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
