package io.kvconnect.nixl;

import io.kvconnect.api.common.HandshakeMetadata;
import java.util.Map;

/**
 * The port a producer worker listens on: its handshake metadata, which reaches the scheduler
 * side (which puts the ports into transfer parameters) before the first step. Immutable.
 *
 * @param ports rank to port
 */
record PortsMetadata(Map<Integer, Integer> ports) implements HandshakeMetadata {
    PortsMetadata {
        ports = Map.copyOf(ports);
    }
}
