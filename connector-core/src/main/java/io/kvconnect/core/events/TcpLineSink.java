package io.kvconnect.core.events;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Lines written to a TCP connection. A lost or refused connection is tried again after a pause that
 * doubles from {@link #MIN_PAUSE_NANOS} to {@link #MAX_PAUSE_NANOS} (reset by a good connection);
 * during the pause lines fail at once, so the publisher drops them instead of queueing behind a
 * consumer that is gone.
 */
final class TcpLineSink implements LineSink {
    static final long MIN_PAUSE_NANOS = 100_000_000L;
    static final long MAX_PAUSE_NANOS = 5_000_000_000L;
    private static final int CONNECT_TIMEOUT_MILLIS = 1_000;

    private final String host;
    private final int port;
    private final LongSupplier nanoTime;
    private @Nullable Socket socket;
    private @Nullable BufferedWriter out;
    private long pause = MIN_PAUSE_NANOS;
    private long nextTry = Long.MIN_VALUE;
    private long connects;

    TcpLineSink(String host, int port, LongSupplier nanoTime) {
        this.host = host;
        this.port = port;
        this.nanoTime = nanoTime;
    }

    @Override
    public void write(String line) throws IOException {
        BufferedWriter w = connected();
        try {
            w.write(line);
            w.write('\n');
        } catch (IOException e) {
            lost();
            throw e;
        }
    }

    @Override
    public void flush() throws IOException {
        BufferedWriter w = out;
        if (w != null) {
            try {
                w.flush();
            } catch (IOException e) {
                lost();
                throw e;
            }
        }
    }

    private BufferedWriter connected() throws IOException {
        BufferedWriter w = out;
        if (w != null) {
            return w;
        }
        long now = nanoTime.getAsLong();
        if (nextTry != Long.MIN_VALUE && now - nextTry < 0) {
            throw new IOException("not connected to " + host + ":" + port + "; next try after a pause");
        }
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
            s.setTcpNoDelay(true);
            w = new BufferedWriter(new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            closeQuietly(s);
            nextTry = now + pause;
            pause = Math.min(MAX_PAUSE_NANOS, pause * 2);
            throw e;
        }
        socket = s;
        out = w;
        pause = MIN_PAUSE_NANOS;
        nextTry = Long.MIN_VALUE;
        connects++;
        return w;
    }

    /** The connection broke: drop it and try again after the first pause. */
    private void lost() {
        close();
        nextTry = nanoTime.getAsLong() + pause;
    }

    /** Connections made so far. */
    long connects() {
        return connects;
    }

    @Override
    public void close() {
        Socket s = socket;
        socket = null;
        out = null;
        if (s != null) {
            closeQuietly(s);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing more to release
        }
    }

    @Override
    public String toString() {
        return "tcp:" + host + ":" + port;
    }
}
