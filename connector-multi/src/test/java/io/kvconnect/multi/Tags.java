package io.kvconnect.multi;

import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.WorkerMetadata;
import java.util.Set;
import java.util.TreeSet;

/**
 * Worker metadata (and handshake metadata) of a fake child: a set of tags, aggregated by union (a new
 * value; the operands are never changed). Refuses another type, as a real connector does.
 *
 * @param child which child made it (so a child can tell it was shown a sibling's metadata)
 * @param tags what the ranks reported
 */
record Tags(String child, Set<String> tags) implements WorkerMetadata, HandshakeMetadata {
    Tags {
        tags = Set.copyOf(tags);
    }

    static Tags of(String child, String... tags) {
        return new Tags(child, Set.of(tags));
    }

    @Override
    public WorkerMetadata aggregate(WorkerMetadata other) {
        if (!(other instanceof Tags o) || !o.child.equals(child)) {
            throw new IllegalArgumentException(child + " cannot aggregate " + other);
        }
        Set<String> union = new TreeSet<>(tags);
        union.addAll(o.tags);
        return new Tags(child, union);
    }
}
