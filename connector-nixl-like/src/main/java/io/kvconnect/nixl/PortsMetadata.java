package io.kvconnect.nixl;

import io.kvconnect.api.common.WorkerMetadata;
import java.util.Map;
import java.util.TreeMap;

/**
 * The port a producer worker listens on: its handshake metadata, which reaches the scheduler
 * side (which puts the ports into transfer parameters) before the first step. Immutable.
 *
 * @param ports rank to port
 */
record PortsMetadata(Map<Integer, Integer> ports) implements WorkerMetadata {
    PortsMetadata {
        ports = Map.copyOf(ports);
    }

    @Override
    public WorkerMetadata aggregate(WorkerMetadata other) {
        var merged = new TreeMap<>(ports);
        if (other instanceof PortsMetadata p) {
            merged.putAll(p.ports);
        }
        return new PortsMetadata(merged);
    }
}
