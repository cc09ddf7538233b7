package io.kvconnect.tools.capacity;

import java.util.Iterator;
import java.util.LinkedHashSet;

/**
 * ARC (Megiddo and Modha, 2003) simulated at one capacity on a {@link ReferenceStream}: every
 * event, counted or not, is a request of its block to ARC (a hit moves it to the frequent list, a
 * ghost hit adapts the target size of the recent list, a miss inserts it). ARC is not a stack
 * algorithm (its content at one capacity need not include its content at a smaller one), so its
 * curve is simulated capacity by capacity, and need not be monotone.
 *
 * <p>Lists: T1 (resident, seen once recently), T2 (resident, seen at least twice), B1 and B2
 * (ghosts, keys only, of blocks evicted from T1 and T2); {@code |T1| + |T2| <= c} and {@code |T1|
 * + |B1| <= c}, {@code |T1| + |T2| + |B1| + |B2| <= 2c}. Each list is ordered from least to most
 * recent.
 */
final class ArcSimulator {
    private final int c;
    private double p;
    private final LinkedHashSet<Integer> t1 = new LinkedHashSet<>();
    private final LinkedHashSet<Integer> t2 = new LinkedHashSet<>();
    private final LinkedHashSet<Integer> b1 = new LinkedHashSet<>();
    private final LinkedHashSet<Integer> b2 = new LinkedHashSet<>();

    ArcSimulator(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.c = capacity;
    }

    /** ARC's hits at {@code capacity} blocks. */
    static Hits simulate(ReferenceStream s, int capacity) {
        ArcSimulator arc = new ArcSimulator(capacity);
        long blockHits = 0;
        long prefixHits = 0;
        int chain = -1;
        boolean chainBroken = false;
        for (int i = 0; i < s.length(); i++) {
            boolean hit = arc.request(s.block[i]);
            if (s.counted[i]) {
                if (s.chain[i] != chain) {
                    chain = s.chain[i];
                    chainBroken = false;
                }
                if (hit) {
                    blockHits++;
                    if (!chainBroken) {
                        prefixHits++;
                    }
                } else {
                    chainBroken = true;
                }
            }
        }
        return new Hits(capacity, s.lookups, blockHits, prefixHits);
    }

    /** Requests {@code x}; returns whether it was resident. */
    boolean request(int x) {
        Integer key = x;
        if (t1.remove(key) || t2.remove(key)) {
            t2.add(key);
            return true;
        }
        if (b1.contains(key)) {
            p = Math.min(c, p + Math.max((double) b2.size() / b1.size(), 1));
            replace(false);
            b1.remove(key);
            t2.add(key);
            return false;
        }
        if (b2.contains(key)) {
            p = Math.max(0, p - Math.max((double) b1.size() / b2.size(), 1));
            replace(true);
            b2.remove(key);
            t2.add(key);
            return false;
        }
        int l1 = t1.size() + b1.size();
        int total = l1 + t2.size() + b2.size();
        if (l1 == c) {
            if (t1.size() < c) {
                removeOldest(b1);
                replace(false);
            } else {
                removeOldest(t1);
            }
        } else if (total >= c) {
            if (total == 2 * c) {
                removeOldest(b2);
            }
            replace(false);
        }
        t1.add(key);
        return false;
    }

    /** Makes room: demotes T1's oldest to B1 if T1 is over its target, else T2's oldest to B2. */
    private void replace(boolean inB2) {
        int n1 = t1.size();
        if (n1 > 0 && (n1 > p || (inB2 && n1 == p))) {
            b1.add(removeOldest(t1));
        } else if (!t2.isEmpty()) {
            b2.add(removeOldest(t2));
        } else if (n1 > 0) {
            b1.add(removeOldest(t1));
        }
    }

    private static Integer removeOldest(LinkedHashSet<Integer> list) {
        Iterator<Integer> it = list.iterator();
        Integer oldest = it.next();
        it.remove();
        return oldest;
    }

    /** Resident blocks (for tests). */
    int resident() {
        return t1.size() + t2.size();
    }

    boolean holds(int x) {
        return t1.contains(x) || t2.contains(x);
    }
}
