package io.kvconnect.offload;

import io.kvconnect.api.common.BlockHash;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.function.Predicate;

/** Least recently used first; ineligible (pinned) blocks are skipped, not moved. */
final class LruPolicy implements EvictionPolicy {
    /** Iteration order: least recently used first. */
    private final LinkedHashSet<BlockHash> order = new LinkedHashSet<>();

    @Override
    public void insert(BlockHash key) {
        order.remove(key);
        order.add(key);
    }

    @Override
    public void touch(BlockHash key) {
        if (order.remove(key)) {
            order.add(key);
        }
    }

    @Override
    public void remove(BlockHash key) {
        order.remove(key);
    }

    @Override
    public BlockHash evict(Predicate<BlockHash> eligible) {
        for (Iterator<BlockHash> it = order.iterator(); it.hasNext(); ) {
            BlockHash key = it.next();
            if (eligible.test(key)) {
                it.remove();
                return key;
            }
        }
        return null;
    }

    @Override
    public int size() {
        return order.size();
    }

    @Override
    public void clear() {
        order.clear();
    }
}
