package io.kvconnect.nixl.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * What a reader names to read or end a transfer: its id, which is predictable (engine id, request
 * id, sequence number), and its token, 128 random bits the producer's scheduler drew when it
 * offered the transfer and that travel only in the transfer parameters of the prefill's response.
 * The producer serves a read or takes a done notification only with the right token, so a process
 * that can reach a producer's port but never saw the response can neither read the blocks nor
 * free them. Immutable; its string form never shows the token.
 *
 * @param id the transfer id
 * @param token the transfer's token, as its hex text
 */
public record TransferRef(String id, String token) {
    /** Longest token accepted on the wire. */
    static final int MAX_TOKEN_BYTES = 64;

    /** Whether {@code claimed} is this transfer's token, compared in constant time. */
    public boolean tokenMatches(String claimed) {
        return MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), claimed.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The wire form, the payload of a {@code DONE} and the head of a {@link ReadRequest}: id length
     * (4 bytes, big-endian), id (UTF-8), token length (4 bytes), token (UTF-8).
     */
    public byte[] encode() {
        byte[] i = id.getBytes(StandardCharsets.UTF_8);
        byte[] t = token.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + i.length + t.length)
                .putInt(i.length)
                .put(i)
                .putInt(t.length)
                .put(t)
                .array();
    }

    /**
     * Reads {@link #encode()}'s form at {@code req}'s position, leaving it after the token.
     *
     * @throws IOException if malformed: a length outside the payload, or a token longer than
     *     {@value #MAX_TOKEN_BYTES} bytes
     */
    public static TransferRef decode(ByteBuffer req) throws IOException {
        if (req.remaining() < 4) {
            throw new IOException("malformed transfer reference");
        }
        int idLen = req.getInt();
        if (idLen < 0 || idLen > req.remaining() - 4) {
            throw new IOException("malformed transfer reference: id of " + idLen + " bytes");
        }
        byte[] id = new byte[idLen];
        req.get(id);
        int tokenLen = req.getInt();
        if (tokenLen < 0 || tokenLen > MAX_TOKEN_BYTES || tokenLen > req.remaining()) {
            throw new IOException("malformed transfer reference: token of " + tokenLen + " bytes");
        }
        byte[] token = new byte[tokenLen];
        req.get(token);
        return new TransferRef(new String(id, StandardCharsets.UTF_8), new String(token, StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return id;
    }
}
