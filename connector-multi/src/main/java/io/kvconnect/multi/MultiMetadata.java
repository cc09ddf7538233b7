package io.kvconnect.multi;

import io.kvconnect.api.common.ConnectorMetadata;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The composite's scheduler-to-worker metadata of one step: one slot per child, plus what the
 * composite itself tells its worker sides. Immutable; every worker receives the same object.
 *
 * @param children child {@code i}'s own metadata; {@link ConnectorMetadata#NONE} when its {@code
 *     buildConnectorMetadata} threw
 * @param relay whether finished transfers are counted on the scheduler side and relayed by rank 0
 *     (some child needs fewer reports than there are workers; see {@link MultiScheduler})
 * @param delayedSends requests that finished since the previous step and whose free some children
 *     delayed, to the indices of those children: a worker reports such a request as sent only once
 *     every one of them did on that worker
 * @param composedLoads asynchronous loads planned in this step that several children perform (each
 *     its own blocks), to the indices of those children: in direct mode a worker reports such a
 *     request as received only once every one of them did on that worker
 * @param releaseSending requests the workers report as sent on the composite's own behalf (relay mode)
 * @param releaseReceiving requests the workers report as received on the composite's own behalf:
 *     relayed completions, and loads that no child will perform (their blocks are in {@code failedLoads})
 * @param failedLoads child index to GPU blocks of that child's loads planned in this step that no
 *     worker will perform, because the child's {@code buildConnectorMetadata} threw; the workers
 *     report them as load errors, so the engine's load-failure policy applies
 */
record MultiMetadata(
        List<ConnectorMetadata> children,
        boolean relay,
        Map<String, Set<Integer>> delayedSends,
        Map<String, Set<Integer>> composedLoads,
        Set<String> releaseSending,
        Set<String> releaseReceiving,
        Map<Integer, Set<Integer>> failedLoads)
        implements ConnectorMetadata {

    /** Copies every collection. */
    MultiMetadata {
        children = List.copyOf(children);
        delayedSends = copy(delayedSends);
        composedLoads = copy(composedLoads);
        releaseSending = Set.copyOf(releaseSending);
        releaseReceiving = Set.copyOf(releaseReceiving);
        failedLoads = copy(failedLoads);
    }

    /** Child {@code child}'s metadata; {@code NONE} for a slot this value does not have. */
    ConnectorMetadata child(int child) {
        return child < children.size() ? children.get(child) : ConnectorMetadata.NONE;
    }

    /** Whether the composite itself has nothing to say (the children's slots aside). */
    boolean ownPartEmpty() {
        return delayedSends.isEmpty()
                && composedLoads.isEmpty()
                && releaseSending.isEmpty()
                && releaseReceiving.isEmpty()
                && failedLoads.isEmpty();
    }

    private static <K> Map<K, Set<Integer>> copy(Map<K, Set<Integer>> map) {
        if (map.isEmpty()) {
            return Map.of();
        }
        Map<K, Set<Integer>> out = new HashMap<>(map.size() * 2);
        map.forEach((k, v) -> out.put(k, Set.copyOf(v)));
        return Collections.unmodifiableMap(out);
    }
}
