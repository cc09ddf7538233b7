package io.kvconnect.core.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the engine publishes its KV events ({@code kv_events} in the engine file): JSON lines, one
 * per step with events, to a file or a TCP socket (see {@code docs/engine.md}, KV events).
 *
 * @param sink where the lines go
 * @param engineId the engine's name in every line, so a router tells engines apart
 * @param queueCapacity steps of events buffered for the publishing thread; beyond it a step's
 *     events are dropped and counted, never waited for
 */
public record KvEventsConfig(Sink sink, String engineId, int queueCapacity) {
    /** The default {@link #queueCapacity}. */
    public static final int DEFAULT_QUEUE = 1024;

    /** Checks. */
    public KvEventsConfig {
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(engineId, "engineId");
        if (engineId.isBlank()) {
            throw new IllegalArgumentException("engine id must not be blank");
        }
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("queue capacity must be >= 1, got " + queueCapacity);
        }
    }

    /** Where the lines go. */
    public sealed interface Sink {
        /**
         * Parses {@code file:<path>} or {@code tcp:<host>:<port>}.
         *
         * @throws IllegalArgumentException with what is allowed
         */
        static Sink parse(String text) {
            if (text.startsWith("file:") && text.length() > 5) {
                return new File(Path.of(text.substring(5)));
            }
            if (text.startsWith("tcp:")) {
                String rest = text.substring(4);
                int colon = rest.lastIndexOf(':');
                if (colon > 0) {
                    String host = rest.substring(0, colon);
                    try {
                        int port = Integer.parseInt(rest.substring(colon + 1));
                        if (port > 0 && port < 65_536) {
                            return new Tcp(host, port);
                        }
                    } catch (NumberFormatException e) {
                        // reported below
                    }
                }
            }
            throw new IllegalArgumentException(
                    "'" + text + "' is not a sink; allowed: \"file:<path>\" or \"tcp:<host>:<port>\"");
        }
    }

    /**
     * Lines appended to a file.
     *
     * @param path the file; created if absent, appended to if present
     */
    public record File(Path path) implements Sink {
        /** Checks. */
        public File {
            Objects.requireNonNull(path, "path");
        }
    }

    /**
     * Lines written to a TCP connection, reconnected when lost.
     *
     * @param host the consumer's host
     * @param port its port
     */
    public record Tcp(String host, int port) implements Sink {
        /** Checks. */
        public Tcp {
            Objects.requireNonNull(host, "host");
            if (host.isBlank() || port < 1 || port > 65_535) {
                throw new IllegalArgumentException("need a host and a port in [1, 65535], got " + host + ":" + port);
            }
        }
    }
}
