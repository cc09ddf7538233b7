package io.kvconnect.disk;

import io.kvconnect.api.common.BlockHash;
import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * One worker's block files: where the worker side's file I/O goes through, so that tests can put
 * failures between the connector and the disk. {@link DirectoryBlockStore} is the real one.
 *
 * <p>Threads: {@link #write} and {@link #delete} are called by the worker's writer thread only,
 * {@link #read} by its reader thread only, {@link #close} once, after both threads ended. The
 * connector never reads a block while it writes or deletes it (the scheduler side offers only
 * complete blocks and deletes only unpinned ones).
 */
interface BlockStore extends AutoCloseable {
    /** Opens the store of one rank. */
    @FunctionalInterface
    interface Factory {
        /**
         * Opens (creating it if missing) the rank's folder and deletes temporary files a crashed
         * process left there.
         *
         * @throws IOException if the folder cannot be created or written
         */
        BlockStore open(Settings settings) throws IOException;
    }

    /**
     * What a store needs to know.
     *
     * @param folder the rank's folder
     * @param namespace the namespace id written in every header
     * @param rank the worker's rank
     * @param payloadBytes bytes of one block on this rank
     * @param fsync whether files and the folder are forced to the device before a block counts as written
     * @param directIo whether to try direct I/O
     */
    record Settings(
            java.nio.file.Path folder, long namespace, int rank, long payloadBytes, boolean fsync, boolean directIo) {}

    /** Why a read found no good block. */
    enum ReadFailure {
        /** No file. */
        MISSING,
        /** A file of the wrong size, header or checksum: torn, truncated, corrupt or foreign. */
        CORRUPT,
        /** The read itself failed. */
        IO
    }

    /** A read that found no good block. */
    final class ReadException extends IOException {
        private static final long serialVersionUID = 1L;
        private final ReadFailure failure;

        ReadException(ReadFailure failure, String message, Throwable cause) {
            super(message, cause);
            this.failure = failure;
        }

        ReadFailure failure() {
            return failure;
        }
    }

    /**
     * Writes {@code payload} as the file of {@code hash}, atomically: the file appears complete
     * under its name or not at all (a temporary name, then a rename).
     *
     * @throws IOException if it could not be written (a full disk, a read-only folder); then no file
     *     of that name was created
     */
    void write(BlockHash hash, MemorySegment payload) throws IOException;

    /**
     * Reads the file of {@code hash} into {@code into} ({@code payloadBytes} long), after checking
     * its size, header and checksum.
     *
     * @throws ReadException if there is no good file; {@code into} may then hold anything
     */
    void read(BlockHash hash, MemorySegment into) throws ReadException;

    /** Deletes the file of {@code hash}, if there is one. */
    void delete(BlockHash hash) throws IOException;

    /** {@return how files are read and written, for the log: direct, or buffered and why} */
    String ioMode();

    /** Frees the store's buffers. */
    @Override
    void close();
}
