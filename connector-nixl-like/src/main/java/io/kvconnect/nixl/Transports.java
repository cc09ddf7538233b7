package io.kvconnect.nixl;

import io.kvconnect.nixl.faults.FaultyTransport;
import io.kvconnect.nixl.transport.TcpTransport;
import io.kvconnect.nixl.transport.Transport;
import io.kvconnect.nixl.transport.UcxTransport;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the transport backend from the configuration. Called by the provider when a worker side is
 * created (engine's thread); stateless apart from logging the choice once per process.
 */
final class Transports {
    private static final Logger LOG = LoggerFactory.getLogger(Transports.class);
    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    private Transports() {}

    /**
     * The backend for {@code config}: {@code tcp} or {@code ucx} when asked for ({@link
     * NixlConfig#parse} already refused {@code ucx} where UCX does not work); {@code auto} picks UCX
     * when JUCX's native library loads and a UCX context can be created, else TCP. Logs the choice
     * and why at INFO, once per process. Wrapped in a {@link FaultyTransport} when the
     * configuration asks for injected faults.
     */
    static Transport pick(NixlConfig config) {
        Transport t = backend(config);
        // A test and soak aid only: without a 'faults' object the backend is used as it is.
        return config.faults().any() ? new FaultyTransport(t, config.faults()) : t;
    }

    private static Transport backend(NixlConfig config) {
        Transport t =
                switch (config.transport()) {
                    case TCP -> new TcpTransport();
                    case UCX -> new UcxTransport();
                    case AUTO -> UcxTransport.availability().available() ? new UcxTransport() : new TcpTransport();
                };
        if (LOGGED.compareAndSet(false, true)) {
            var ucx = UcxTransport.availability();
            if (t instanceof UcxTransport) {
                LOG.info(
                        "nixl-like: transport ucx ({}; {})",
                        config.transport() == NixlConfig.TransportKind.AUTO ? "auto: UCX available" : "configured",
                        UcxTransport.describeEnvironment());
            } else {
                LOG.info(
                        "nixl-like: transport tcp ({})",
                        config.transport() == NixlConfig.TransportKind.TCP
                                ? "configured"
                                : "auto: UCX not available: " + ucx.reason());
            }
        }
        return t;
    }
}
