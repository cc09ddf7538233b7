package io.kvconnect.offload;

import io.kvconnect.api.common.BlockHash;
import java.util.function.Predicate;

/**
 * Chooses which readable block of the host tier to evict. Holds only keys whose content is
 * complete ({@link #insert}ed after their store finished); keys being written are never in it, so
 * they are never evicted. Scheduler thread only.
 */
interface EvictionPolicy {
    /** A block became readable. */
    void insert(BlockHash key);

    /** A readable block was looked up and hit (recency, frequency). A key not held may adapt the policy. */
    void touch(BlockHash key);

    /** A block left the tier for another reason than eviction. */
    void remove(BlockHash key);

    /**
     * Chooses, removes and returns a victim among held keys that {@code eligible} accepts (unpinned
     * blocks), or null if there is none.
     */
    BlockHash evict(Predicate<BlockHash> eligible);

    /** Number of held keys. */
    int size();

    /** Forgets everything. */
    void clear();

    /** A policy of {@code kind} for a tier of {@code capacity} blocks. */
    static EvictionPolicy create(OffloadConfig.Eviction kind, int capacity) {
        return switch (kind) {
            case LRU -> new LruPolicy();
            case ARC -> new ArcPolicy(capacity);
        };
    }
}
