package io.kvconnect.nixl.protocol;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A connection that speaks {@link Frames} raw over classic streams, for tests that play a
 * misbehaving reader against a listener, or a fake producer a reader connects to. Used by one
 * thread at a time; every read is bounded.
 *
 * @param socket the connection
 * @param in its input
 * @param out its output
 */
public record RawConnection(Socket socket, DataInputStream in, DataOutputStream out) implements AutoCloseable {
    /** Bound on each read, so a test waiting on a silent peer ends. */
    private static final int READ_TIMEOUT_MILLIS = 10_000;

    /** Connects to {@code port} on loopback. */
    public static RawConnection to(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(READ_TIMEOUT_MILLIS);
        return new RawConnection(
                s,
                new DataInputStream(new BufferedInputStream(s.getInputStream())),
                new DataOutputStream(s.getOutputStream()));
    }

    /** Speaks frames on {@code s}, an accepted connection. */
    public static RawConnection of(Socket s) throws IOException {
        s.setSoTimeout(READ_TIMEOUT_MILLIS);
        return new RawConnection(
                s,
                new DataInputStream(new BufferedInputStream(s.getInputStream())),
                new DataOutputStream(s.getOutputStream()));
    }

    /** Sends one frame of {@code type}. */
    public void send(byte type, byte[] payload) throws IOException {
        Frames.writeFrame(out, type, payload);
        out.flush();
    }

    /** The next frame (type first), or null at the end of the stream. */
    public byte[] next() throws IOException {
        try {
            return Frames.readFrame(in, "peer");
        } catch (EOFException e) {
            return null;
        }
    }

    /** The types of every frame until the end of the stream. */
    public List<Byte> rest() throws IOException {
        List<Byte> types = new ArrayList<>();
        for (byte[] f = next(); f != null; f = next()) {
            types.add(f[0]);
        }
        return types;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
