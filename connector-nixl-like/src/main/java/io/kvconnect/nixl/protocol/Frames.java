package io.kvconnect.nixl.protocol;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The frame format every nixl-like connection speaks, both backends' control connections included,
 * and the one registry of its message types. Stateless.
 *
 * <p><b>Frames.</b> Every message is a frame: magic {@code KVNX} (4 bytes), type (1 byte), payload
 * length (4 bytes, big-endian), payload. Control payloads are at most {@value #MAX_CONTROL} bytes,
 * handshake payloads at most {@value Handshake#MAX_FRAME}; a {@code DATA} payload is exactly
 * {@code blocks * blockBytes} bytes, checked against the request, so a transfer cut short is
 * detected (end of stream inside a frame is {@code TRUNCATED}) and never taken for KV.
 *
 * <p><b>Message types.</b>
 * <ul>
 *   <li>Handshake ({@link Handshake}): {@link #CHALLENGE}, {@link #HELLO}, {@link #PROOF}, {@link
 *       #FIELDS}, then {@link #OK} or {@link #ERROR}.
 *   <li>Requests: {@link #READ} ({@link ReadRequest}) answered by {@link #DATA} or {@link #ERROR};
 *       {@link #DONE} ({@link TransferRef#encode()}) and {@link #DONE_BATCH} ({@link DoneBatch})
 *       answered by {@link #OK} or {@link #ERROR}.
 *   <li>The UCX backend's additions on the same connection: {@link #UCX_ATTACH} (the reader's
 *       staging slots, 4 bytes, whether it verifies its reads, 1 byte, and its UCX worker's
 *       address, length-prefixed) answered by {@link #OK} (the slots, 4 bytes, and slot bytes, 8,
 *       the producer staged) or {@link #ERROR}; {@link #STAGE} (a tag base, 8 bytes, the blocks
 *       per message, 4, then a {@link ReadRequest}) answered by {@link #STAGED} (the number of
 *       tagged messages sent, 4 bytes), then, to a reader that verifies, {@link #CHECKSUM}; or by
 *       {@link #ERROR}.
 * </ul>
 * An {@code ERROR} payload is a {@link TransferException.Kind} (1 byte) and a UTF-8 message ({@link
 * #errorPayload}).
 *
 * <p>The stream-based {@link #writeFrame} and {@link #readFrame} speak the same format over classic
 * streams; tests use them to play a misbehaving peer. Connections use {@link Wire}.
 */
public final class Frames {
    /** The first 4 bytes of every frame: {@code KVNX}. */
    public static final int MAGIC = 0x4B564E58;
    /** Bytes of a frame header: magic, type, length. */
    public static final int HEADER_BYTES = 9;
    /** Largest control payload either side reads. */
    public static final int MAX_CONTROL = 1 << 20;

    /** Producer, opens the handshake: the handshake version and the producer's nonce. */
    public static final byte CHALLENGE = 1;
    /** Reader: its nonce and its proof of the secret. */
    public static final byte HELLO = 2;
    /**
     * Success: the handshake's confirmation, or the answer to {@code DONE}, {@code DONE_BATCH} or
     * {@code UCX_ATTACH}.
     */
    public static final byte OK = 3;
    /** Refusal or failure: a {@link TransferException.Kind} and a message. */
    public static final byte ERROR = 4;
    /** Reader: read blocks of a transfer ({@link ReadRequest}). */
    public static final byte READ = 5;
    /** Producer: the blocks a {@code READ} asked for. */
    public static final byte DATA = 6;
    /** Reader: done with a transfer ({@link TransferRef#encode()}). */
    public static final byte DONE = 7;
    /** UCX reader: attach, naming its staging slots and its worker's address. */
    public static final byte UCX_ATTACH = 8;
    /** UCX reader: send blocks of a transfer in tagged messages (tag base, blocks per message, {@link ReadRequest}). */
    public static final byte STAGE = 9;
    /** UCX producer: the blocks are staged and their messages sent; names how many. */
    public static final byte STAGED = 10;
    /** Producer: its proof of the secret and its compatibility fields. */
    public static final byte PROOF = 11;
    /** Reader: its compatibility fields under a MAC. */
    public static final byte FIELDS = 12;
    /** Reader: done with several transfers ({@link DoneBatch}); since protocol 4. */
    public static final byte DONE_BATCH = 13;
    /**
     * UCX producer, right after {@link #STAGED} to a reader that verifies its reads: the CRC32C
     * of the staged blocks (4 bytes), computed while the reader takes the messages.
     */
    public static final byte CHECKSUM = 14;

    /** Longest message an {@code ERROR} payload carries, in bytes. */
    private static final int MAX_ERROR_TEXT = 4096;

    private Frames() {}

    /** Writes one frame to {@code out} (not flushed). */
    public static void writeFrame(DataOutputStream out, byte type, byte[] payload) throws IOException {
        out.writeInt(MAGIC);
        out.writeByte(type);
        out.writeInt(payload.length);
        out.write(payload);
    }

    /**
     * Reads one control frame; returns the type in element 0 followed by the payload.
     *
     * @param where the peer, for messages
     * @throws IOException if the magic is wrong, the payload longer than {@value #MAX_CONTROL} bytes
     *     or negative, or the stream ends
     */
    public static byte[] readFrame(DataInputStream in, String where) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new IOException(
                    where + " is not speaking the nixl-like protocol (magic " + Integer.toHexString(magic) + ")");
        }
        byte type = in.readByte();
        int length = in.readInt();
        if (length < 0 || length > MAX_CONTROL) {
            throw new IOException(
                    where + " sent a control frame of " + length + " bytes (at most " + MAX_CONTROL + ")");
        }
        byte[] frame = new byte[length + 1];
        frame[0] = type;
        in.readFully(frame, 1, length);
        return frame;
    }

    /** An {@code ERROR} payload: {@code kind}, then {@code message} cut to 4096 bytes. */
    public static byte[] errorPayload(TransferException.Kind kind, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        byte[] p = new byte[1 + Math.min(text.length, MAX_ERROR_TEXT)];
        p[0] = (byte) kind.ordinal();
        System.arraycopy(text, 0, p, 1, p.length - 1);
        return p;
    }

    /** The kind an {@code ERROR} frame's payload names; {@code FAILED} if it names none. */
    public static TransferException.Kind errorKind(byte[] payload) {
        var kinds = TransferException.Kind.values();
        return payload.length > 0 && payload[0] >= 0 && payload[0] < kinds.length
                ? kinds[payload[0]]
                : TransferException.Kind.FAILED;
    }

    /**
     * The message of an {@code ERROR} frame's payload, with control characters replaced: it is the
     * peer's text and goes into this engine's log.
     */
    public static String errorMessage(byte[] payload) {
        if (payload.length < 2) {
            return "(no message)";
        }
        String text = new String(payload, 1, Math.min(payload.length - 1, MAX_ERROR_TEXT), StandardCharsets.UTF_8);
        return text.codePoints()
                .map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
    }

    /** {@code a} followed by {@code b}. */
    public static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
