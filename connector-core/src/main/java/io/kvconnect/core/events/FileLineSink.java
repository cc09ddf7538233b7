package io.kvconnect.core.events;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jspecify.annotations.Nullable;

/** Lines appended to a file, opened on the first line and again after a failed write. */
final class FileLineSink implements LineSink {
    private final Path path;
    private @Nullable BufferedWriter out;

    FileLineSink(Path path) {
        this.path = path;
    }

    @Override
    public void write(String line) throws IOException {
        BufferedWriter w = out;
        if (w == null) {
            w = Files.newBufferedWriter(
                    path, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            out = w;
        }
        try {
            w.write(line);
            w.write('\n');
        } catch (IOException e) {
            close();
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
                close();
                throw e;
            }
        }
    }

    @Override
    public void close() {
        BufferedWriter w = out;
        out = null;
        if (w != null) {
            try {
                w.close();
            } catch (IOException e) {
                // the lines not flushed are lost, as for a failed write
            }
        }
    }

    @Override
    public String toString() {
        return "file:" + path;
    }
}
