package io.kvconnect.core.events;

import java.io.IOException;

/** Where the publishing thread writes lines. Publishing thread only. */
interface LineSink extends AutoCloseable {
    /**
     * Writes one line (the line break is added).
     *
     * @throws IOException if the sink cannot take it now; the line is lost
     */
    void write(String line) throws IOException;

    /** Flushes what was written; called when no more lines wait. */
    void flush() throws IOException;

    /** Releases the file or connection. Never throws. */
    @Override
    void close();
}
