package io.kvconnect.disk;

import java.io.IOException;

/** A read that found no good block, and why. */
final class BlockReadException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Why a read found no good block. */
    enum Kind {
        /** No file. */
        MISSING,
        /** A file of the wrong size, header or checksum: torn, truncated, corrupt or foreign. */
        CORRUPT,
        /** The read itself failed. */
        IO
    }

    private final Kind kind;

    BlockReadException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    Kind kind() {
        return kind;
    }
}
