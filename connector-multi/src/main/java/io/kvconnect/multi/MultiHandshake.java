package io.kvconnect.multi;

import io.kvconnect.api.common.HandshakeMetadata;
import java.util.List;
import java.util.Optional;

/**
 * One worker's handshake metadata of the composite: each child's own value (or none), in child
 * order. Built by {@link MultiWorker#handshakeMetadata}; {@link MultiScheduler#setHandshakeMetadata}
 * gives child {@code i} only slot {@code i} of every rank. Immutable.
 *
 * @param children one slot per child
 */
record MultiHandshake(List<Optional<HandshakeMetadata>> children) implements HandshakeMetadata {
    /** Copies the list. */
    MultiHandshake {
        children = List.copyOf(children);
    }

    /** Child {@code child}'s value, if it has one. */
    Optional<HandshakeMetadata> child(int child) {
        return child < children.size() ? children.get(child) : Optional.empty();
    }
}
