package io.kvconnect.core.kv;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.scheduler.RequestView;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The KV-cache manager: which blocks each request owns, local prefix-cache lookup, slot
 * allocation, caching of computed blocks, freeing.
 *
 * <p>A request's blocks are laid out as {@code | local hit | external | new |}: hit blocks are
 * shared with the prefix cache (one more reference each), the rest are fresh. Blocks are entered
 * into the prefix cache only by {@link #cacheUpTo}, which the scheduler calls for KV-confirmed
 * tokens only — so a cached block always holds computed (or successfully loaded) content, and an
 * asynchronous load's blocks are never a hit before the load finished.
 *
 * <p><b>Thread.</b> Scheduler thread only.
 */
public final class KvCacheManager {
    private final BlockPool pool;
    private final int blockSize;
    private final Map<String, Owned> owned = new HashMap<>();

    /** A manager over {@code pool}. */
    public KvCacheManager(BlockPool pool) {
        this.pool = pool;
        this.blockSize = pool.blockSize();
    }

    /** The pool. */
    public BlockPool pool() {
        return pool;
    }

    /**
     * The longest cached prefix of {@code request}, leaving at least its last token to compute
     * (logits need one computed position), so a whole-prompt hit stops one block short when the
     * prompt is block aligned.
     */
    public PrefixHit findCachedPrefix(RequestView request) {
        if (!pool.cachingEnabled()) {
            return PrefixHit.NONE;
        }
        return findCachedPrefix(request.numTokens(), BlockHashChain.of(request.blockHashes()));
    }

    /**
     * {@link #findCachedPrefix(RequestView)} of a request of {@code numTokens} tokens whose block
     * hashes are {@code hashes}, read where they are: the scheduler asks this of a waiting request
     * at every step in which it tries to admit it, and a record per block looked up was garbage
     * each time.
     */
    public PrefixHit findCachedPrefix(int numTokens, BlockHashChain hashes) {
        if (!pool.cachingEnabled()) {
            return PrefixHit.NONE;
        }
        int maxBlocks = Math.min((numTokens - 1) / blockSize, hashes.size());
        int[] hit = null;
        int n = 0;
        for (int i = 0; i < maxBlocks; i++) {
            int id = pool.lookup(hashes, i);
            if (id < 0) {
                break;
            }
            if (hit == null) {
                hit = new int[maxBlocks];
            }
            hit[n++] = id;
        }
        return n == 0 ? PrefixHit.NONE : new PrefixHit(Arrays.copyOf(hit, n), n * blockSize);
    }

    /**
     * Makes {@code requestId} own enough blocks for {@code totalTokens} tokens. For a request that
     * owns no blocks yet, {@code hit}'s blocks come first (they gain a reference). Nothing changes
     * if there are not enough free blocks.
     *
     * @param totalTokens the tokens the request's blocks must cover after this call
     * @param hit the local prefix hit for a request without blocks; {@link PrefixHit#NONE} otherwise
     * @return the newly allocated block ids (hit blocks excluded), or {@code null} if not enough
     *     blocks are free
     */
    public int @Nullable [] allocate(String requestId, int totalTokens, PrefixHit hit) {
        return allocate(requestId, totalTokens, hit, totalTokens);
    }

    /**
     * {@link #allocate(String, int, PrefixHit)}, with the tokens the request may come to hold:
     * its list of owned blocks is then sized once for them when it is created, instead of being
     * copied as it grows a block at a time (a decoding request's list reached a thousand blocks
     * through seven copies).
     *
     * @param expectedTokens the tokens the request may reach (a hint; it may grow past them)
     */
    public int @Nullable [] allocate(String requestId, int totalTokens, PrefixHit hit, int expectedTokens) {
        Owned own = owned.get(requestId);
        int have = own == null ? 0 : own.size;
        if (have > 0 && hit.numBlocks() > 0) {
            throw new IllegalStateException("request " + requestId + " already owns blocks; a prefix hit "
                    + "applies only to a request without blocks");
        }
        int needed = Math.ceilDiv(totalTokens, blockSize) - have - hit.numBlocks();
        int fresh = Math.max(0, needed);
        int revived = 0;
        for (int id : hit.blocks()) {
            if (pool.refCount(id) == 0) {
                revived++;
            }
        }
        if (fresh + revived > pool.numFreeBlocks()) {
            return null;
        }
        if (own == null) {
            own = new Owned(Math.ceilDiv(Math.max(totalTokens, expectedTokens), blockSize));
            owned.put(requestId, own);
        }
        for (int id : hit.blocks()) {
            pool.touch(id);
            own.add(id);
        }
        own.numCached = Math.max(own.numCached, hit.numBlocks());
        own.addFresh(pool, fresh);
        return Arrays.copyOfRange(own.ids, own.size - fresh, own.size);
    }

    /** Blocks needed to grow {@code requestId} to {@code totalTokens} tokens (0 if it has enough). */
    public int blocksNeeded(String requestId, int totalTokens) {
        return blocksNeeded(owned.get(requestId), totalTokens);
    }

    /**
     * {@link #blocksNeeded(String, int)} of the request whose blocks {@code own} are (see {@link
     * #owned}), {@code null} for one that owns none.
     *
     * @throws IllegalStateException if {@code own} is dead
     */
    public int blocksNeeded(@Nullable Owned own, int totalTokens) {
        int have = own == null ? 0 : requireLive(own).size;
        return Math.max(0, Math.ceilDiv(totalTokens, blockSize) - have);
    }

    /**
     * The blocks {@code requestId} owns, as a handle that the scheduler keeps with the request: a
     * decoding request grows and caches a block every few steps, and looking its blocks up by id
     * each time (hash the id, then a table slot, a map node and the record, each likely a cache
     * miss) cost more than what was done with them. The handle stays the request's record of its
     * blocks until they are freed; then it is dead ({@link Owned#isLive()}) and a later
     * allocation makes a new one.
     *
     * @return the handle, or {@code null} if the request owns no blocks
     */
    public @Nullable Owned owned(String requestId) {
        return owned.get(requestId);
    }

    /**
     * Allocates the fresh blocks that grow the request whose blocks {@code own} are to {@code
     * totalTokens} tokens: {@link #allocate(String, int, PrefixHit)} without a prefix hit, without
     * the lookup by id and without an array of the new ids. They are the record's last blocks,
     * read in {@link Owned#blockIdArray()}.
     *
     * @return how many blocks were added (0 if it has enough), or -1 if not enough blocks are free
     *     (then nothing changes)
     * @throws IllegalStateException if {@code own} is dead
     */
    public int grow(Owned own, int totalTokens) {
        int fresh = blocksNeeded(own, totalTokens);
        if (fresh > pool.numFreeBlocks()) {
            return -1;
        }
        own.addFresh(pool, fresh);
        return fresh;
    }

    /**
     * Enters the request's full blocks covering its first {@code numTokens} tokens into the prefix
     * cache. The caller guarantees those tokens' KV is computed or loaded and confirmed.
     */
    public void cacheUpTo(RequestView request, int numTokens) {
        Owned own = owned.get(request.requestId());
        if (own != null
                && pool.cachingEnabled()
                && fullBlocks(own, request.numBlockHashes(), numTokens) > own.numCached) {
            // The view's hashes copied into a chain: this path runs once per admission, not per step.
            cacheUpTo(own, BlockHashChain.of(request.blockHashes()), numTokens);
        }
    }

    /**
     * {@link #cacheUpTo(RequestView, int)} with the request's blocks {@code own} (see {@link
     * #owned}) and its block hashes {@code hashes}, without the lookup by id and without a record
     * per block.
     *
     * @throws IllegalStateException if {@code own} is dead
     */
    public void cacheUpTo(Owned own, BlockHashChain hashes, int numTokens) {
        requireLive(own);
        if (!pool.cachingEnabled()) {
            return;
        }
        int full = fullBlocks(own, hashes.size(), numTokens);
        if (full <= own.numCached) {
            return;
        }
        // The request's own ids and hashes, by position: no arrays of the run (one block every
        // few steps per decoding request).
        pool.cache(own.ids, own.numCached, full, hashes);
        own.numCached = full;
    }

    /** The blocks of {@code own} that are full at {@code numTokens} tokens and have one of {@code numHashes} hashes. */
    private int fullBlocks(Owned own, int numHashes, int numTokens) {
        return Math.min(Math.min(numTokens / blockSize, numHashes), own.size);
    }

    /**
     * The request's content from block {@code blockIndex} on is no longer valid (a failed load):
     * it will be cached again only when recomputed.
     */
    public void uncacheFrom(String requestId, int blockIndex) {
        Owned own = owned.get(requestId);
        if (own != null) {
            own.numCached = Math.min(own.numCached, blockIndex);
        }
    }

    /** Drops the prefix-cache entries of {@code blockIds} (a failed load); returns how many were cached. */
    public int evict(int... blockIds) {
        return pool.evict(blockIds);
    }

    /**
     * Frees every block of {@code requestId}, tail first, so a request's last blocks are evicted
     * before its first ones (prefixes are what later requests share). No-op for an unknown id.
     */
    public void free(String requestId) {
        Owned own = owned.remove(requestId);
        if (own == null) {
            return;
        }
        own.live = false;
        pool.freeReversed(own.ids, own.size);
    }

    /** Whether {@code requestId} owns blocks. */
    public boolean owns(String requestId) {
        return owned.containsKey(requestId);
    }

    /** Number of blocks {@code requestId} owns. */
    public int numBlocks(String requestId) {
        Owned own = owned.get(requestId);
        return own == null ? 0 : own.size;
    }

    /** The block at {@code index} of {@code requestId}. */
    public int blockAt(String requestId, int index) {
        Owned own = owned.get(requestId);
        if (own == null || index < 0 || index >= own.size) {
            throw new IndexOutOfBoundsException("request " + requestId + " has no block " + index);
        }
        return own.ids[index];
    }

    /** A copy of the block ids of {@code requestId} (empty if none). */
    public int[] blockIds(String requestId) {
        Owned own = owned.get(requestId);
        return own == null ? new int[0] : Arrays.copyOf(own.ids, own.size);
    }

    /** The block ids of {@code requestId} as the API type. */
    public BlockIds blocks(String requestId) {
        return BlockIds.of(blockIds(requestId));
    }

    /** Blocks of {@code requestId} from {@code from} on. */
    public BlockIds blocksFrom(String requestId, int from) {
        Owned own = owned.get(requestId);
        if (own == null || from >= own.size) {
            return BlockIds.empty();
        }
        return BlockIds.of(Arrays.copyOfRange(own.ids, from, own.size));
    }

    /** Ids of the requests that own blocks. */
    public Set<String> owners() {
        return Collections.unmodifiableSet(owned.keySet());
    }

    private static Owned requireLive(Owned own) {
        if (!own.live) {
            throw new IllegalStateException("the blocks of this handle were freed: look the request's blocks up again");
        }
        return own;
    }

    /**
     * Blocks one request owns, in prefix order; a growable int list. Outside this class only a
     * handle (see {@link #owned}); scheduler thread only, as the manager.
     */
    public static final class Owned {
        int[] ids;
        int size;
        int numCached;
        /** Until the request's blocks are freed; a dead handle refuses every use. */
        boolean live = true;

        Owned(int expectedBlocks) {
            ids = new int[Math.max(8, expectedBlocks)];
        }

        /** Whether these are still the request's blocks: false once they were freed. */
        public boolean isLive() {
            return live;
        }

        void add(int id) {
            ensureRoom(1);
            ids[size++] = id;
        }

        /** Appends {@code n} blocks taken fresh from {@code pool}, allocated straight into the list. */
        void addFresh(BlockPool pool, int n) {
            ensureRoom(n);
            pool.allocateInto(ids, size, n);
            size += n;
        }

        /**
         * Makes room for {@code n} more ids. A larger array is a copy: the old one keeps its
         * contents, so a window handed out on it stays valid (see {@link #blockIdArray()}).
         */
        private void ensureRoom(int n) {
            if (size + n > ids.length) {
                ids = Arrays.copyOf(ids, Math.max(size * 2, size + n));
            }
        }

        /** How many blocks the request owns. */
        public int numBlocks() {
            return size;
        }

        /**
         * The record's own array of block ids, not a copy, for a window on its first {@link
         * #numBlocks()} entries (a step's new blocks are its last ones). Must not be changed.
         * Entries below {@link #numBlocks()} never change: blocks are only ever appended, a freed
         * record is not cleared, and a grown record moves to a new array and leaves the old one
         * as it was.
         */
        public int[] blockIdArray() {
            return ids;
        }
    }
}
