package io.kvconnect.nixl.protocol;

/**
 * A transfer that did not complete, with why. Thrown by the {@link Handshake}, by the transports'
 * connections and by the producer's block source; the consumer worker turns it into a load failure
 * (the request's blocks reported as invalid). The kind crosses the wire in {@code ERROR} frames
 * ({@link Frames#errorPayload}) as its ordinal, so the order of {@link Kind} is part of the
 * protocol: new kinds go at the end.
 */
public final class TransferException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a transfer failed. */
    public enum Kind {
        /** Nobody listens at the address, or the connection was reset while connecting. */
        REFUSED,
        /** The handshake failed: wrong secret, incompatible peer, another engine at the address. */
        HANDSHAKE,
        /** The producer does not know the transfer (yet): its metadata may still be on the way. */
        UNKNOWN_TRANSFER,
        /** The producer's lease on the blocks expired or the transfer was already completed. */
        EXPIRED,
        /** The peer closed the connection in the middle of a message. */
        TRUNCATED,
        /** The peer did not answer within the configured bound. */
        TIMEOUT,
        /** Anything else: I/O errors, protocol violations, a failed copy on either side. */
        FAILED,
        /**
         * Refused before any connection or copy: the transfer names a host outside {@code peers},
         * or the producer's answer names memory outside what it agreed to at the handshake.
         */
        UNTRUSTED
    }

    private final Kind kind;

    public TransferException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public TransferException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public String getMessage() {
        return kind + ": " + super.getMessage();
    }
}
