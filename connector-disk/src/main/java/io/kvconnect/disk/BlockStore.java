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
     * @throws BlockReadException if there is no good file; {@code into} may then hold anything
     */
    void read(BlockHash hash, MemorySegment into) throws BlockReadException;

    /** Deletes the file of {@code hash}, if there is one. */
    void delete(BlockHash hash) throws IOException;

    /** {@return how files are read and written, for the log: direct, or buffered and why} */
    String ioMode();

    /** Frees the store's buffers. */
    @Override
    void close();
}
