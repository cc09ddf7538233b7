package io.kvconnect.multi;

import io.kvconnect.api.common.WorkerMetadata;
import java.util.List;
import java.util.Optional;

/**
 * One worker's handshake metadata of the composite: each child's own value (or none), in child
 * order. Built by {@link MultiWorker#handshakeMetadata}; {@link MultiScheduler#setHandshakeMetadata}
 * gives child {@code i} only slot {@code i} of every rank. Immutable.
 *
 * @param children one slot per child
 */
record MultiHandshake(List<Optional<WorkerMetadata>> children) implements WorkerMetadata {
    /** Copies the list. */
    MultiHandshake {
        children = List.copyOf(children);
    }

    /** Child {@code child}'s value, if it has one. */
    Optional<WorkerMetadata> child(int child) {
        return child < children.size() ? children.get(child) : Optional.empty();
    }

    /**
     * Never called: the engine passes handshake metadata by rank and does not fold it.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public WorkerMetadata aggregate(WorkerMetadata other) {
        throw new UnsupportedOperationException("handshake metadata is passed by rank, never aggregated");
    }
}
