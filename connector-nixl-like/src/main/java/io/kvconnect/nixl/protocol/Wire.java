package io.kvconnect.nixl.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * One TCP connection in non-blocking mode with bounded waits: every read and write takes a
 * timeout (0: none), so a silent peer ends a call in bounded time, and data moves straight between
 * the socket and the caller's (native) buffers without an intermediate copy. Closing it from
 * another thread ends a wait within {@value #SLICE_MILLIS} ms. Used by one thread at a time.
 */
public final class Wire implements AutoCloseable {
    /** Longest single wait, so a close from another thread is noticed. */
    static final long SLICE_MILLIS = 200;

    /**
     * Most buffers one scattering read or gathering write is given. The channel prepares every
     * buffer it is given on each call (it acquires each buffer's memory), so handing it the whole
     * array of a read of hundreds of small blocks on every call, full buffers included, cost more
     * than the copy; a window of buffers from the first unfinished one keeps the work per call
     * bounded, and still fills a socket buffer's worth per call for blocks of 16 KiB and more.
     */
    static final int WINDOW = 64;

    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final ByteBuffer header = ByteBuffer.allocate(Frames.HEADER_BYTES);

    public Wire(SocketChannel channel) throws IOException {
        this.channel = channel;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        this.key = channel.register(selector, 0);
    }

    /** A frame header. */
    public record Header(byte type, int length) {}

    /** Fills {@code dst}. */
    public void readFully(ByteBuffer dst, long timeoutMillis) throws IOException {
        long deadline = deadline(timeoutMillis);
        while (dst.hasRemaining()) {
            int n = channel.read(dst);
            if (n < 0) {
                throw new EOFException("the peer closed the connection");
            }
            if (n == 0) {
                await(SelectionKey.OP_READ, deadline);
            }
        }
    }

    /** Writes all of {@code src}. */
    public void writeFully(ByteBuffer src, long timeoutMillis) throws IOException {
        long deadline = deadline(timeoutMillis);
        while (src.hasRemaining()) {
            if (channel.write(src) == 0) {
                await(SelectionKey.OP_WRITE, deadline);
            }
        }
    }

    /**
     * Fills every buffer of {@code dst} in order (one scattering read per wake-up, over at most
     * {@value #WINDOW} buffers from the first one not yet full).
     */
    public void readFully(ByteBuffer[] dst, long timeoutMillis) throws IOException {
        long deadline = deadline(timeoutMillis);
        int first = 0;
        while (first < dst.length) {
            if (!dst[first].hasRemaining()) {
                first++;
                continue;
            }
            long n = channel.read(dst, first, Math.min(WINDOW, dst.length - first));
            if (n < 0) {
                throw new EOFException("the peer closed the connection");
            }
            if (n == 0) {
                await(SelectionKey.OP_READ, deadline);
            }
        }
    }

    /**
     * Writes every buffer of {@code src} in order (one gathering write per wake-up, over at most
     * {@value #WINDOW} buffers from the first one not yet written).
     */
    public void writeFully(ByteBuffer[] src, long timeoutMillis) throws IOException {
        long deadline = deadline(timeoutMillis);
        int first = 0;
        while (first < src.length) {
            if (!src[first].hasRemaining()) {
                first++;
                continue;
            }
            if (channel.write(src, first, Math.min(WINDOW, src.length - first)) == 0) {
                await(SelectionKey.OP_WRITE, deadline);
            }
        }
    }

    /** Bytes that write themselves into a channel, as many per call as it takes. */
    public interface ChannelWriter {
        /** {@return the bytes not yet written} */
        long remaining();

        /**
         * Writes as many of the remaining bytes as {@code channel} (non-blocking) takes now.
         *
         * @return the bytes written, 0 if the channel took none
         */
        long writeTo(SocketChannel channel) throws IOException;
    }

    /** Writes all of {@code src}, waiting (bounded) whenever the socket takes nothing. */
    public void writeFully(ChannelWriter src, long timeoutMillis) throws IOException {
        long deadline = deadline(timeoutMillis);
        while (src.remaining() > 0) {
            if (src.writeTo(channel) == 0) {
                await(SelectionKey.OP_WRITE, deadline);
            }
        }
    }

    /** Writes a frame header; the caller writes the {@code length} bytes of payload next. */
    public void writeHeader(byte type, int length, long timeoutMillis) throws IOException {
        writeFully(header(type, length), timeoutMillis);
    }

    /** A frame header, ready to write (to lead a gathering write of its payload). */
    public static ByteBuffer header(byte type, int length) {
        return ByteBuffer.allocate(Frames.HEADER_BYTES)
                .putInt(Frames.MAGIC)
                .put(type)
                .putInt(length)
                .flip();
    }

    /** Writes a whole frame. */
    public void writeFrame(byte type, byte[] payload, long timeoutMillis) throws IOException {
        ByteBuffer f = ByteBuffer.allocate(Frames.HEADER_BYTES + payload.length)
                .putInt(Frames.MAGIC)
                .put(type)
                .putInt(payload.length)
                .put(payload)
                .flip();
        writeFully(f, timeoutMillis);
    }

    /** Answers a refused request with an {@code ERROR} frame of {@code e}'s kind and message. */
    public void writeError(TransferException e, long timeoutMillis) throws IOException {
        writeFrame(Frames.ERROR, Frames.errorPayload(e.kind(), e.getMessage()), timeoutMillis);
    }

    /** Reads a frame header and checks the magic. */
    public Header readHeader(long timeoutMillis) throws IOException {
        header.clear();
        readFully(header, timeoutMillis);
        header.flip();
        int magic = header.getInt();
        if (magic != Frames.MAGIC) {
            throw new IOException(
                    "the peer is not speaking the nixl-like protocol (magic " + Integer.toHexString(magic) + ")");
        }
        return new Header(header.get(), header.getInt());
    }

    /** Reads a control frame's payload after its header (at most {@link Frames#MAX_CONTROL} bytes). */
    public byte[] readPayload(Header h, long timeoutMillis) throws IOException {
        return readPayload(h, Frames.MAX_CONTROL, timeoutMillis);
    }

    /**
     * Reads a frame's payload after its header, refusing (before allocating anything) a length
     * outside 0 to {@code max}: the length is the peer's word.
     */
    byte[] readPayload(Header h, int max, long timeoutMillis) throws IOException {
        if (h.length() < 0 || h.length() > max) {
            throw new IOException("frame of " + h.length() + " bytes (at most " + max + ")");
        }
        ByteBuffer p = ByteBuffer.allocate(h.length());
        readFully(p, timeoutMillis);
        return p.array();
    }

    /**
     * The milliseconds left until {@code deadlineNanos} (a {@link System#nanoTime()} value), at
     * least 1, for the timeouts of this class: a sequence of calls then shares one bound.
     *
     * @throws SocketTimeoutException if the deadline passed
     */
    public static long millisLeft(long deadlineNanos) throws SocketTimeoutException {
        long left = (deadlineNanos - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
            throw new SocketTimeoutException("no progress within the timeout");
        }
        return left;
    }

    private static long deadline(long timeoutMillis) {
        return timeoutMillis <= 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutMillis * 1_000_000L;
    }

    private void await(int op, long deadline) throws IOException {
        long left = deadline == Long.MAX_VALUE ? SLICE_MILLIS : (deadline - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
            throw new SocketTimeoutException("no progress within the timeout");
        }
        key.interestOps(op);
        selector.select(Math.min(left, SLICE_MILLIS));
        selector.selectedKeys().clear();
        if (!channel.isOpen()) {
            throw new ClosedChannelException();
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            selector.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
