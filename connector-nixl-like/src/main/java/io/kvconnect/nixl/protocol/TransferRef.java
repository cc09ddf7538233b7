package io.kvconnect.nixl.protocol;

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
    public static final int MAX_TOKEN_BYTES = 64;

    /** Whether {@code claimed} is this transfer's token, compared in constant time. */
    public boolean tokenMatches(String claimed) {
        return MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8),
                claimed.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return id;
    }
}
