package io.kvconnect.nixl.transport;

import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.TransferException;
import java.io.IOException;
import java.util.Map;

/**
 * A way to move KV blocks between a producer's and a consumer's workers with one-sided read
 * semantics: the consumer names a transfer and the producer's block ids; the producer's
 * {@link BlockSource} answers without its engine taking part in the step.
 *
 * <p>Backends: {@link TcpTransport} (plain Java sockets, always available) and {@link
 * UcxTransport} (UCX through JUCX, where UCX is installed; it shares the TCP backend's control
 * connection and handshake), picked by the connector from its configuration. Wrappers may decorate
 * a backend (the fault-injecting test aid does), so the interface is not sealed: permitting them
 * here would make this package name its users. Implementations are thread-safe; one instance
 * serves one worker; the engine's worker thread calls {@link #listen} and the consumer's read
 * lanes {@link #connect}, several at once for different producers.
 */
public interface Transport {
    /** The backend's name for logs and reports: {@code "tcp"} or {@code "ucx"}. */
    String name();

    /**
     * Starts serving reads of {@code source}'s blocks at {@code host:port} ({@code port} 0 picks a
     * free port). Handshakes prove {@code options.secret()} both ways and compare {@code local}
     * with the reader's fields; unauthenticated connections are bounded by {@code options}.
     *
     * @throws IOException if the address cannot be bound
     */
    Listener listen(String host, int port, Compat local, ListenOptions options, BlockSource source) throws IOException;

    /**
     * Connects to the producer worker at {@code host:port} and handshakes within {@code
     * options.connectTimeout()}; later calls on the peer time out after {@code options.ioTimeout()}.
     *
     * @throws TransferException if the connection or the handshake fails (kind says which)
     */
    Peer connect(String host, int port, Compat local, ConnectOptions options) throws TransferException;

    /**
     * Counters the backend keeps by itself since the last call, merged into the worker's stats
     * (a fault-injecting wrapper's injected faults); the real backends keep none.
     */
    default Map<String, Long> takeCounters() {
        return Map.of();
    }
}
