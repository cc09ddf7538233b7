package io.kvconnect.offload;

import io.kvconnect.api.common.BlockHash;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How often each key was looked up, for {@code store_threshold}: bounded to the most recently
 * counted {@code maxEntries} keys, so memory stays bounded however many prefixes pass by.
 */
final class LookupCounter {
    private final int maxEntries;
    private final LinkedHashMap<BlockHash, Integer> counts;

    LookupCounter(int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be >= 1");
        }
        this.maxEntries = maxEntries;
        this.counts = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<BlockHash, Integer> eldest) {
                return size() > LookupCounter.this.maxEntries;
            }
        };
    }

    /** Counts one lookup of {@code key}. */
    void record(BlockHash key) {
        counts.merge(key, 1, Integer::sum);
    }

    /** Lookups of {@code key} counted so far (0 if forgotten). */
    int count(BlockHash key) {
        return counts.getOrDefault(key, 0);
    }

    int size() {
        return counts.size();
    }

    void clear() {
        counts.clear();
    }
}
