package io.kvconnect.offload;

import io.kvconnect.api.common.BlockHash;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.function.Predicate;

/**
 * Adaptive replacement (Megiddo and Modha): resident lists T1 (seen once) and T2 (seen again),
 * ghost lists B1 and B2 of recently evicted keys, and a target size {@code p} for T1 that grows on
 * a B1 ghost hit and shrinks on a B2 ghost hit.
 *
 * <p>Unlike the reference engine's ARC, which gives up when T2 has no eligible block even though
 * T1 has one, eviction falls back to the other list, so it finds a
 * victim whenever any held block is eligible.
 */
final class ArcPolicy implements EvictionPolicy {
    private final int capacity;
    private final LinkedHashSet<BlockHash> t1 = new LinkedHashSet<>();
    private final LinkedHashSet<BlockHash> t2 = new LinkedHashSet<>();
    private final LinkedHashSet<BlockHash> b1 = new LinkedHashSet<>();
    private final LinkedHashSet<BlockHash> b2 = new LinkedHashSet<>();
    /** Target size of T1. */
    private double target;

    ArcPolicy(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    @Override
    public void insert(BlockHash key) {
        if (t1.contains(key) || t2.contains(key)) {
            return;
        }
        // A key seen before (in a ghost list) is frequent: straight to T2.
        if (b1.remove(key) || b2.remove(key)) {
            t2.add(key);
        } else {
            t1.add(key);
        }
    }

    @Override
    public void touch(BlockHash key) {
        if (t1.remove(key)) {
            t2.add(key);
        } else if (t2.remove(key)) {
            t2.add(key);
        } else if (b1.contains(key)) {
            target = Math.min(capacity, target + Math.max(1.0, (double) b2.size() / b1.size()));
        } else if (b2.contains(key)) {
            target = Math.max(0.0, target - Math.max(1.0, (double) b1.size() / b2.size()));
        }
    }

    @Override
    public void remove(BlockHash key) {
        t1.remove(key);
        t2.remove(key);
    }

    @Override
    public BlockHash evict(Predicate<BlockHash> eligible) {
        boolean fromT1First = !t1.isEmpty() && t1.size() >= Math.max(1.0, target);
        BlockHash victim = fromT1First ? take(t1, b1, eligible) : take(t2, b2, eligible);
        if (victim == null) {
            victim = fromT1First ? take(t2, b2, eligible) : take(t1, b1, eligible);
        }
        return victim;
    }

    private BlockHash take(
            LinkedHashSet<BlockHash> list, LinkedHashSet<BlockHash> ghost, Predicate<BlockHash> eligible) {
        for (Iterator<BlockHash> it = list.iterator(); it.hasNext(); ) {
            BlockHash key = it.next();
            if (eligible.test(key)) {
                it.remove();
                ghost.add(key);
                trim(ghost);
                return key;
            }
        }
        return null;
    }

    private void trim(LinkedHashSet<BlockHash> ghost) {
        Iterator<BlockHash> it = ghost.iterator();
        while (ghost.size() > capacity && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    @Override
    public int size() {
        return t1.size() + t2.size();
    }

    @Override
    public void clear() {
        t1.clear();
        t2.clear();
        b1.clear();
        b2.clear();
        target = 0;
    }

    /** The current target size of T1, for tests. */
    double target() {
        return target;
    }

    /** Sizes of T1, T2, B1 and B2, for tests. */
    int[] sizes() {
        return new int[] {t1.size(), t2.size(), b1.size(), b2.size()};
    }
}
