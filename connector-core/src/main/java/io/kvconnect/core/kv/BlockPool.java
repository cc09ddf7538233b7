package io.kvconnect.core.kv;

import static io.kvconnect.core.kv.BlockRecords.REF;
import static io.kvconnect.core.kv.BlockRecords.at;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The GPU block pool: a fixed number of KV blocks with reference counts, a prefix cache keyed by
 * chained block hashes, and a free queue in least-recently-freed order.
 *
 * <p>Block 0 is the null block: never allocated, never cached, never counted. A free block keeps
 * its hash (it is still a cache hit) until it is reallocated, at which point its hash is dropped
 * and reported in a {@code BlockRemoved} event. Hashes dropped one after another, with no other
 * event between them, are reported in one {@code BlockRemoved} event, in the order dropped: a
 * step's allocations evict a block per request, and an event (and its list) per block was garbage
 * on every step. Blocks freed together are queued in the order given, so a caller that frees a
 * request's blocks tail-first has the tail evicted first.
 *
 * <p>One hash maps to at most one block: caching a second block with a hash that is already cached
 * leaves the second block uncached (it is a duplicate and is simply reused when freed).
 *
 * <p><b>Events only when someone reads them.</b> A pool made with {@code recordEvents} false
 * records no events (as the reference engine does without {@code enable_kv_cache_events}): its
 * {@link #drainEventsTo} and {@link #takeEvents} give nothing, and it only counts what the events
 * would have held ({@link #storedHashes}, {@link #removedHashes}, {@link #clears}). Building them
 * was about a fifth of a decoding step's garbage: per filled block a hash object, a list, an
 * {@code Optional} and the event, and per evicted block its hash as an object again. The engine
 * records them only when it publishes KV events.
 *
 * <p><b>Thread.</b> Scheduler thread only; no locking. Operations are O(1) per block, without
 * allocation on the allocate/touch/free paths except the returned arrays and, when events are
 * recorded, a taken cached block's hash as an object for the {@code BlockRemoved} event.
 */
public final class BlockPool {
    private static final int NIL = -1;

    private final int numBlocks;
    /**
     * Per block, one record shared with the prefix index and the grant ledger (see {@link
     * BlockRecords} for why): here its reference count, its neighbours in the free queue and whether
     * it is queued.
     */
    private final int[] meta;

    private final CachedHashes hashes;
    private final PrefixIndex cached;
    private final boolean cachingEnabled;
    private final int blockSize;
    private final List<KvEvent> events = new ArrayList<>();
    /** Hashes dropped since the last event was recorded, for the next {@code BlockRemoved}. */
    private BlockHash[] removed = new BlockHash[16];

    private int numRemoved;
    private final boolean recordEvents;
    private long storedHashes;
    private long removedHashes;
    private long clears;
    private final GrantLedger grants;
    private final FreeQueue free;
    /** Blocks taken since the last {@link #prepareForAllocations()}. */
    private int takenSinceWarm;

    /**
     * A pool that records KV events.
     *
     * @param numBlocks blocks including the null block 0 (at least 2)
     * @param blockSize tokens per block, for events
     * @param cachingEnabled whether full blocks are entered into the prefix cache
     */
    public BlockPool(int numBlocks, int blockSize, boolean cachingEnabled) {
        this(numBlocks, blockSize, cachingEnabled, true);
    }

    /**
     * @param numBlocks blocks including the null block 0 (at least 2)
     * @param blockSize tokens per block, for events
     * @param cachingEnabled whether full blocks are entered into the prefix cache
     * @param recordEvents whether KV events are recorded; they are counted either way (see the class
     *     comment)
     */
    public BlockPool(int numBlocks, int blockSize, boolean cachingEnabled, boolean recordEvents) {
        if (numBlocks < 2) {
            throw new IllegalArgumentException(
                    "a block pool needs at least 2 blocks (one is the null block), got " + numBlocks);
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.cachingEnabled = cachingEnabled;
        this.recordEvents = recordEvents;
        meta = BlockRecords.newTable(numBlocks);
        this.grants = new GrantLedger(meta);
        hashes = new CachedHashes(meta);
        cached = new PrefixIndex(hashes, meta);
        free = new FreeQueue(meta);
        for (int id = 1; id < numBlocks; id++) {
            free.append(id);
        }
    }

    /** Blocks including the null block. */
    public int numBlocks() {
        return numBlocks;
    }

    /** Usable blocks (the null block excluded). */
    public int usableBlocks() {
        return numBlocks - 1;
    }

    /** Tokens per block. */
    public int blockSize() {
        return blockSize;
    }

    /** Blocks with a reference count of zero (cached ones included). */
    public int numFreeBlocks() {
        return free.size();
    }

    /** Whether prefix caching is on. */
    public boolean cachingEnabled() {
        return cachingEnabled;
    }

    /**
     * Takes {@code n} blocks from the head of the free queue (least recently freed first), evicting
     * their cached hashes; each gets a reference count of 1.
     *
     * @throws IllegalStateException if fewer than {@code n} blocks are free
     */
    public int[] allocate(int n) {
        int[] ids = new int[Math.max(0, n)];
        allocateInto(ids, 0, n);
        return ids;
    }

    /**
     * {@link #allocate(int)}, writing the ids into {@code ids[offset, offset + n)} instead of a new
     * array: a decoding request's new block goes straight into its list of owned blocks.
     *
     * @throws IllegalStateException if fewer than {@code n} blocks are free (nothing is allocated)
     * @throws IndexOutOfBoundsException if the range is outside {@code ids} (nothing is allocated)
     */
    public void allocateInto(int[] ids, int offset, int n) {
        if (n < 0 || n > free.size()) {
            throw new IllegalStateException("cannot allocate " + n + " blocks, " + free.size() + " free");
        }
        Objects.checkFromIndexSize(offset, n, ids.length);
        takenSinceWarm += n;
        for (int i = 0; i < n; i++) {
            int id = free.poll();
            dropHash(id);
            meta[at(id, REF)] = 1;
            grants.inUse(id);
            ids[offset + i] = id;
        }
    }

    /**
     * The most blocks of the free queue {@link #prepareForAllocations()} loads, and the most blocks
     * announced by {@link #expectCaching} it remembers: a step in which up to this many running
     * requests fill a block at once is covered; beyond it the rest are only not warmed.
     */
    private static final int MAX_WARM = 512;

    /** Scratch for the ids {@link #prepareForAllocations()} warms. */
    private final int[] warmIds = new int[MAX_WARM];

    /** The blocks announced by {@link #expectCaching(BlockHashChain, int, int)} since the last preparation. */
    private final int[] expectedBlocks = new int[MAX_WARM];

    private int numExpectedBlocks;

    /**
     * Loads into the processor's cache what the coming allocations and caching will probe: the
     * records of the blocks they are likely to take from the head of the free queue and the index
     * slots of their evictions, and for each block announced by {@link #expectCaching} its record
     * and the index slot its caching probes. Changes nothing. The scheduler calls it when it starts
     * planning a step. Why: in a large pool these lines are cold, and each allocation or caching
     * waited for its own; loaded together, the waits overlap (see {@link FreeQueue}).
     *
     * <p>How many free blocks: as many as were taken since the previous call, or, if more, as many
     * blocks as were announced full since then (at most {@value #MAX_WARM}). A decoding request
     * whose block just filled takes a new block in the next step; counting only the blocks taken
     * before would warm nothing for a step in which many requests cross a block boundary together
     * after a step in which none did.
     */
    public void prepareForAllocations() {
        int expected = numExpectedBlocks;
        free.warm(Math.min(Math.max(takenSinceWarm, expected), MAX_WARM), cached, warmIds);
        takenSinceWarm = 0;
        long sum = warmed;
        int[] ids = expectedBlocks;
        for (int i = 0; i < expected; i++) {
            sum += meta[at(ids[i], REF)];
        }
        warmed = sum;
        numExpectedBlocks = 0;
        cached.warmExpected();
    }

    /**
     * The scheduler will likely cache a block under {@code hash} in a coming step (a request's
     * block just got all its tokens): {@link #prepareForAllocations()} loads the prefix index slot
     * that caching probes, together with the others, instead of the caching waiting for it alone.
     * Changes nothing; at most {@value PrefixIndex#MAX_EXPECTED} are remembered between two
     * preparations.
     */
    public void expectCaching(BlockHash hash) {
        cached.expect(PrefixIndex.fingerprint(hash));
    }

    /**
     * {@link #expectCaching(BlockHash)} for hash {@code index} of {@code chain}, to be cached as
     * block {@code id}: the preparation loads that block's record too (caching reads and writes it,
     * and it was last touched when the block was taken, many steps before). Changes nothing.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not a hash of {@code chain}
     * @throws IllegalArgumentException if {@code id} is not a block of this pool (0, the null block,
     *     included)
     */
    public void expectCaching(BlockHashChain chain, int index, int id) {
        Objects.checkIndex(index, chain.size());
        checkUsable(id);
        cached.expect(PrefixIndex.fingerprint(
                chain.word(index, 0), chain.word(index, 1), chain.word(index, 2), chain.word(index, 3)));
        if (numExpectedBlocks < expectedBlocks.length) {
            expectedBlocks[numExpectedBlocks++] = id;
        }
    }

    /** Takes one more reference on {@code id}; a free block leaves the free queue (keeping its hash). */
    public void touch(int id) {
        checkUsable(id);
        if (meta[at(id, REF)] == 0) {
            free.remove(id);
            grants.inUse(id);
        }
        meta[at(id, REF)]++;
    }

    /**
     * Gives back one reference on each of {@code ids}, in order; blocks reaching zero are queued
     * at the tail in that order.
     *
     * @throws IllegalStateException if a block is already free; blocks before it were freed
     */
    public void free(int... ids) {
        for (int id : ids) {
            free(id);
        }
    }

    /**
     * Gives back one reference on each of {@code ids[0, n)}, the last first: {@link #free(int)} on
     * each in that order.
     *
     * <p>Why not that loop alone: a finished request's blocks were taken over many steps from
     * anywhere in the pool, so in a large pool each record is cold, and the freeing loop, with its
     * work per block, waited for the misses a few at a time (a request of 1,057 blocks in a pool of
     * 270,000). A first loop that only reads each record has nothing else to do, so the processor
     * keeps many of those misses in flight at once.
     *
     * @throws IllegalStateException if a block is already free; blocks after it in {@code ids} were freed
     */
    public void freeReversed(int[] ids, int n) {
        Objects.checkFromIndexSize(0, n, ids.length);
        int sum = 0;
        for (int i = n - 1; i >= 0; i--) {
            int id = ids[i];
            if (id > 0 && id < numBlocks) {
                sum += meta[at(id, REF)];
            }
        }
        warmed += sum;
        for (int i = n - 1; i >= 0; i--) {
            free(ids[i]);
        }
    }

    /**
     * What {@link #freeReversed} and {@link #prepareForAllocations()} read ahead, summed: kept so
     * the reads are not optimised away. Never read otherwise.
     */
    private long warmed;

    /** Gives back one reference on {@code id}. */
    public void free(int id) {
        checkUsable(id);
        if (meta[at(id, REF)] <= 0) {
            throw new IllegalStateException("block " + id + " is already free (double free)");
        }
        if (--meta[at(id, REF)] == 0) {
            free.append(id);
            grants.freed(id);
        }
    }

    /**
     * Which blocks connectors may copy, as the engine thread decided so far; told when a block starts
     * and stops being in use. The workers get its changes step by step.
     */
    public GrantLedger grants() {
        return grants;
    }

    /** The reference count of {@code id}. */
    public int refCount(int id) {
        checkUsable(id);
        return meta[at(id, REF)];
    }

    /** The cached hash of {@code id}, or {@code null}. */
    public @Nullable BlockHash hashOf(int id) {
        checkUsable(id);
        return hashes.get(id);
    }

    /** The cached hash of {@code id}, if any. */
    public Optional<BlockHash> cachedHash(int id) {
        return Optional.ofNullable(hashOf(id));
    }

    /** The block cached under {@code hash}, or -1. */
    public int lookup(BlockHash hash) {
        return cached.get(hash);
    }

    /** {@link #lookup(BlockHash)} of hash {@code index} of {@code chain}, without a record. */
    public int lookup(BlockHashChain chain, int index) {
        Objects.checkIndex(index, chain.size());
        return cached.get(chain.word(index, 0), chain.word(index, 1), chain.word(index, 2), chain.word(index, 3));
    }

    /** Number of cached blocks. */
    public int numCachedBlocks() {
        return cached.size();
    }

    /**
     * Enters a run of full, computed blocks into the prefix cache and records one {@code
     * BlockStored} event for those that became cached. A block that already has this hash is left
     * as is; a block whose hash is already cached elsewhere stays uncached (a duplicate).
     *
     * @param ids the blocks, in prefix order
     * @param blockHashes their hashes
     * @param parent the hash of the block before {@code ids[0]}, or {@code null} if it is the first
     * @throws IllegalArgumentException if an id is invalid or the arrays differ in length; then
     *     nothing is cached
     * @throws IllegalStateException if a block is free or already cached under another hash; then
     *     nothing is cached
     */
    public void cache(int[] ids, BlockHash[] blockHashes, @Nullable BlockHash parent) {
        if (ids.length != blockHashes.length) {
            throw new IllegalArgumentException(ids.length + " blocks but " + blockHashes.length + " hashes");
        }
        // The parent, if any, goes first in the chain: block ids[i] is then under hash i + shift.
        BlockHashChain chain = new BlockHashChain(blockHashes.length + 1);
        if (parent != null) {
            chain.add(parent);
        }
        for (BlockHash h : blockHashes) {
            chain.add(Objects.requireNonNull(h, "hash"));
        }
        cacheRun(ids, 0, ids.length, chain, parent == null ? 0 : 1);
    }

    /**
     * {@link #cache(int[], BlockHash[], BlockHash)} for {@code ids[from, to)}, block {@code ids[i]}
     * under hash {@code i} of {@code chain}, the parent being hash {@code from - 1} (none if {@code
     * from} is 0): a request's own ids and hashes, by position, as the KV-cache manager caches a
     * decoding request's filled block every few steps. Reads the hashes where they are: no array
     * and no record per block.
     *
     * @throws IndexOutOfBoundsException if the range is outside {@code ids} or {@code chain}; then
     *     nothing is cached
     * @throws IllegalArgumentException if an id is invalid; then nothing is cached
     * @throws IllegalStateException as {@link #cache(int[], BlockHash[], BlockHash)}
     */
    public void cache(int[] ids, int from, int to, BlockHashChain chain) {
        Objects.checkFromToIndex(from, to, ids.length);
        Objects.checkFromToIndex(from, to, chain.size());
        cacheRun(ids, from, to, chain, 0);
    }

    /** Caches block {@code ids[i]} under hash {@code i + shift} of {@code chain}, for {@code i} in {@code [from, to)}. */
    private void cacheRun(int[] ids, int from, int to, BlockHashChain chain, int shift) {
        Objects.checkFromToIndex(from, to, ids.length);
        if (!cachingEnabled) {
            return;
        }
        // Validate the whole run first, so that a refused call caches nothing (and every cached
        // block is covered by an event).
        for (int i = from; i < to; i++) {
            int id = ids[i];
            checkUsable(id);
            if (meta[at(id, REF)] == 0) {
                throw new IllegalStateException("block " + id + " is free; only owned blocks can be cached");
            }
            checkNotCachedOtherwise(id, chain, i + shift);
        }
        // The newly cached blocks form runs of consecutive positions; each run is one event.
        int runFrom = -1;
        for (int i = from; i < to; i++) {
            int id = ids[i];
            int k = i + shift;
            long h0 = chain.word(k, 0);
            long h1 = chain.word(k, 1);
            long h2 = chain.word(k, 2);
            long h3 = chain.word(k, 3);
            // Only reachable when one id appears twice in the run with different hashes.
            checkNotCachedOtherwise(id, chain, k);
            if (!hashes.has(id) && cached.putIfAbsent(h0, h1, h2, h3, id)) {
                hashes.set(id, h0, h1, h2, h3);
                if (runFrom < 0) {
                    runFrom = i;
                }
            } else if (runFrom >= 0) {
                // Already cached (as itself or as a duplicate): an event lists consecutive blocks only.
                flushStored(chain, runFrom + shift, i + shift);
                runFrom = -1;
            }
        }
        if (runFrom >= 0) {
            flushStored(chain, runFrom + shift, to + shift);
        }
    }

    /** Refuses block {@code id} if it is cached under another hash than hash {@code index} of {@code chain}. */
    private void checkNotCachedOtherwise(int id, BlockHashChain chain, int index) {
        if (hashes.has(id)
                && !hashes.is(
                        id, chain.word(index, 0), chain.word(index, 1), chain.word(index, 2), chain.word(index, 3))) {
            throw new IllegalStateException(
                    "block " + id + " is cached as " + hashes.get(id) + ", not " + chain.get(index));
        }
    }

    /**
     * One event for the newly cached run, hashes {@code [from, to)} of {@code chain}, whose parent
     * is hash {@code from - 1} (none if {@code from} is 0). The list is built immutable, so the
     * event's defensive copy keeps it as it is; records are made only when events are recorded.
     */
    private void flushStored(BlockHashChain chain, int from, int to) {
        storedHashes += to - from;
        if (!recordEvents) {
            return;
        }
        List<BlockHash> run;
        if (to - from == 1) {
            run = List.of(chain.get(from));
        } else {
            BlockHash[] copy = new BlockHash[to - from];
            for (int i = from; i < to; i++) {
                copy[i - from] = chain.get(i);
            }
            run = List.of(copy);
        }
        Optional<BlockHash> parent = from == 0 ? Optional.empty() : Optional.of(chain.get(from - 1));
        flushRemoved();
        events.add(new KvEvent.BlockStored(run, parent, blockSize, 0, StorageMedium.GPU));
    }

    /** Drops the cached hashes of {@code ids} (reference counts untouched); returns how many were cached. */
    public int evict(int... ids) {
        int evicted = 0;
        for (int id : ids) {
            checkUsable(id);
            if (hashes.has(id)) {
                dropHash(id);
                evicted++;
            }
        }
        return evicted;
    }

    /**
     * Clears the prefix cache, only if no block is referenced.
     *
     * @return whether it was cleared
     */
    public boolean resetPrefixCache() {
        if (free.size() != numBlocks - 1) {
            return false;
        }
        hashes.clearAll();
        cached.clear();
        clears++;
        if (recordEvents) {
            flushRemoved();
            events.add(new KvEvent.AllBlocksCleared(StorageMedium.GPU));
        }
        return true;
    }

    /**
     * Moves the KV events since the previous take to the end of {@code target}, in order, without
     * an intermediate list (the scheduler drains them into its outbox every step).
     */
    public void drainEventsTo(List<? super KvEvent> target) {
        flushRemoved();
        for (int i = 0; i < events.size(); i++) {
            target.add(events.get(i));
        }
        events.clear();
    }

    /** Whether this pool records KV events; it counts them either way. */
    public boolean recordsEvents() {
        return recordEvents;
    }

    /** Hashes entered into the prefix cache so far: the hashes of every {@code BlockStored}. */
    public long storedHashes() {
        return storedHashes;
    }

    /** Hashes dropped from the prefix cache so far, one by one: the hashes of every {@code BlockRemoved}. */
    public long removedHashes() {
        return removedHashes;
    }

    /** Prefix-cache resets so far: every {@code AllBlocksCleared}. */
    public long clears() {
        return clears;
    }

    /** KV events since the previous call, in order. */
    public List<KvEvent> takeEvents() {
        flushRemoved();
        if (events.isEmpty()) {
            return List.of();
        }
        List<KvEvent> taken = List.copyOf(events);
        events.clear();
        return taken;
    }

    /** Visits cached blocks in id order. */
    public void forEachCached(CachedVisitor visitor) {
        for (int id = 1; id < numBlocks; id++) {
            BlockHash h = hashes.get(id);
            if (h != null) {
                visitor.visit(id, h, meta[at(id, REF)] == 0);
            }
        }
    }

    /**
     * The free queue from head (allocated next) to tail (allocated last): blocks freed longest ago
     * first. A copy, for tests and diagnostics.
     */
    public int[] freeQueueOrder() {
        return free.order();
    }

    /** Receives cached blocks. */
    @FunctionalInterface
    public interface CachedVisitor {
        /** One cached block. */
        void visit(int blockId, BlockHash hash, boolean free);
    }

    /**
     * Checks the pool's own structure: the free queue holds exactly the blocks with zero
     * references, the free count matches, and the cache map and block hashes agree.
     *
     * @throws IllegalStateException naming the first violation
     */
    public void checkStructure() {
        free.check();
        for (int id = 1; id < numBlocks; id++) {
            if (meta[at(id, REF)] < 0) {
                throw new IllegalStateException("block " + id + " has a negative reference count");
            }
            if ((meta[at(id, REF)] == 0) != free.contains(id)) {
                throw new IllegalStateException("block " + id + " has " + meta[at(id, REF)] + " references but is "
                        + (free.contains(id) ? "" : "not ") + "in the free queue");
            }
            BlockHash h = hashes.get(id);
            if (h != null && lookup(h) != id) {
                throw new IllegalStateException("block " + id + " has a hash that the cache does not map to it");
            }
        }
        int[] indexed = {0};
        cached.forEachBlock(id -> {
            if (!hashes.has(id)) {
                throw new IllegalStateException("the prefix index holds block " + id + " which has no hash");
            }
            indexed[0]++;
        });
        if (indexed[0] != cached.size()) {
            throw new IllegalStateException(
                    "the prefix index holds " + indexed[0] + " blocks but counts " + cached.size());
        }
    }

    private void dropHash(int id) {
        if (!hashes.has(id)) {
            return;
        }
        if (recordEvents) {
            // Read before it is cleared: the hash becomes an object only for the event.
            if (numRemoved == removed.length) {
                removed = Arrays.copyOf(removed, numRemoved * 2);
            }
            removed[numRemoved++] = Objects.requireNonNull(hashes.get(id), "a hashed block's hash");
        }
        cached.remove(id);
        hashes.clear(id);
        removedHashes++;
    }

    /** Records the hashes dropped since the last event as one {@code BlockRemoved} event. */
    private void flushRemoved() {
        if (numRemoved == 0) {
            return;
        }
        List<BlockHash> hashes = numRemoved == 1 ? List.of(removed[0]) : List.of(Arrays.copyOf(removed, numRemoved));
        Arrays.fill(removed, 0, numRemoved, null);
        numRemoved = 0;
        events.add(new KvEvent.BlockRemoved(hashes, 0, StorageMedium.GPU));
    }

    private void checkUsable(int id) {
        if (id <= 0 || id >= numBlocks) {
            throw new IllegalArgumentException(
                    id == 0 ? "block 0 is the null block" : "block id " + id + " is outside [1, " + numBlocks + ")");
        }
    }
}
