package io.kvconnect.multi;

import io.kvconnect.api.common.WorkerMetadata;
import java.util.ArrayList;
import java.util.List;

/**
 * The composite's worker-to-scheduler metadata: one {@link ChildReport} slot per child, in child
 * order. Immutable.
 *
 * <p>Built by {@link MultiWorker#reportStep} only when some child reported something (no
 * child with metadata, events, load errors or relayed completions means no value at all, as for a
 * connector with nothing to say). The engine folds the values of all ranks with {@link #aggregate};
 * the scheduler side then hands child {@code i} only slot {@code i} (see {@link
 * MultiScheduler#updateConnectorOutput}), so a child never sees a sibling's metadata. The four
 * shapes per pair of children (none/none, none/some, some/none, both) are all represented: an empty
 * slot is {@link ChildReport#EMPTY}.
 *
 * @param children one slot per child
 */
record MultiWorkerMetadata(List<ChildReport> children) implements WorkerMetadata {
    /** Copies the list. */
    MultiWorkerMetadata {
        children = List.copyOf(children);
    }

    /** Slot {@code child}, or an empty report when this value has no such slot. */
    ChildReport child(int child) {
        return child < children.size() ? children.get(child) : ChildReport.EMPTY;
    }

    /**
     * Slot-wise combination with another rank's value of the same step: each child's report is
     * merged with that child's report only; neither operand changes. Associative because each slot's
     * merge is.
     *
     * @throws IllegalArgumentException if {@code other} is not a composite's metadata of the same width
     */
    @Override
    public WorkerMetadata aggregate(WorkerMetadata other) {
        if (!(other instanceof MultiWorkerMetadata o) || o.children.size() != children.size()) {
            throw new IllegalArgumentException("cannot aggregate the multi connector's worker metadata ("
                    + children.size() + " children) with " + other);
        }
        List<ChildReport> merged = new ArrayList<>(children.size());
        for (int i = 0; i < children.size(); i++) {
            merged.add(children.get(i).merge(o.children.get(i)));
        }
        return new MultiWorkerMetadata(merged);
    }
}
