package io.kvconnect.nixl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the transport backend from the configuration. */
final class Transports {
    private static final Logger LOG = LoggerFactory.getLogger(Transports.class);

    private Transports() {
    }

    /**
     * The backend for {@code config}: {@code tcp} when asked for; {@code auto} would prefer UCX
     * when its native library loads, but there is no UCX backend in this build, so it is TCP too
     * (the configuration refuses an explicit {@code ucx}).
     */
    static Transport pick(NixlConfig config) {
        if (config.transport() == NixlConfig.TransportKind.AUTO) {
            LOG.debug("nixl-like: transport auto: no UCX backend in this build, using tcp");
        }
        return new TcpTransport();
    }
}
