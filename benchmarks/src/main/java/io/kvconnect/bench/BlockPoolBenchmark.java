package io.kvconnect.bench;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.core.kv.BlockHasher;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.KvCacheManager;
import io.kvconnect.core.kv.PrefixHit;
import io.kvconnect.testkit.doubles.FakeRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The block pool's hot operations, the prefix-cache lookup and block hashing, each on its own
 * state so that no benchmark disturbs another's pool (allocation takes blocks from the head of the
 * free queue, which would sooner or later evict the cached blocks the lookups rely on).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// A fixed heap keeps heap resizing out of the measurement. The fork also inherits the launching
// JVM's options (scripts/run-benchmarks.sh passes --sun-misc-unsafe-memory-access=allow: JMH 1.37
// calls sun.misc.Unsafe, which JDK 25 warns about).
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class BlockPoolBenchmark {
    static final int BLOCK_SIZE = 16;

    /** A pool with nothing cached, so allocation never evicts (and records no event). */
    @State(Scope.Thread)
    public static class AllocState {
        /** Blocks allocated and freed per operation. */
        @Param({"1", "16", "64"})
        public int blocks;

        BlockPool pool;

        @Setup(Level.Trial)
        public void setUp() {
            pool = new BlockPool(4096, BLOCK_SIZE, true);
        }
    }

    /** A pool holding a fully cached 2048-token prompt (128 blocks), all free. */
    @State(Scope.Thread)
    public static class CachedState {
        static final int PROMPT_TOKENS = 2048;

        BlockPool pool;
        KvCacheManager manager;
        FakeRequest prompt;
        int cachedBlock;

        @Setup(Level.Trial)
        public void setUp() {
            pool = new BlockPool(4096, BLOCK_SIZE, true);
            manager = new KvCacheManager(pool);
            SplittableRandom random = new SplittableRandom(7);
            int[] tokens = new int[PROMPT_TOKENS];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = 1 + random.nextInt(31_999);
            }
            prompt = FakeRequest.builder("cached")
                    .tokens(tokens)
                    .blockHashes(chainedHashes(tokens))
                    .build();
            int n = prompt.numBlockHashes();
            int[] ids = pool.allocate(n);
            BlockHash[] hashes = prompt.blockHashes().toArray(new BlockHash[0]);
            pool.cache(ids, hashes, null);
            for (int i = n - 1; i >= 0; i--) {
                pool.free(ids[i]);
            }
            pool.takeEvents();
            cachedBlock = ids[0];
            // The engine never lets a hit cover the last token (logits need one computed position),
            // so a block-aligned prompt hits all blocks but its last.
            PrefixHit hit = manager.findCachedPrefix(prompt);
            if (hit.numBlocks() != n - 1) {
                throw new IllegalStateException("expected a hit of " + (n - 1) + " blocks, got " + hit.numBlocks());
            }
        }
    }

    /**
     * A pool of {@code poolBlocks} blocks, every one cached and free, queued in random id order: a
     * pool in the steady state of a long run, where the block taken next was freed longest ago and
     * its state is as cold as the pool is large.
     */
    @State(Scope.Thread)
    public static class LruState {
        /** Blocks in the pool. */
        @Param({"10000", "1000000"})
        public int poolBlocks;

        BlockPool pool;
        final int[] one = new int[1];
        final BlockHash[] oneHash = new BlockHash[1];
        final List<KvEvent> events = new ArrayList<>();
        long nextHash;

        @Setup(Level.Trial)
        public void setUp() {
            pool = new BlockPool(poolBlocks, BLOCK_SIZE, true);
            int[] ids = pool.allocate(pool.usableBlocks());
            for (int id : ids) {
                one[0] = id;
                oneHash[0] = new BlockHash(nextHash++, 17, 29, 31);
                pool.cache(one, oneHash, null);
            }
            shuffle(ids, 13);
            pool.free(ids);
            pool.takeEvents();
            pool.grants().takeChanges();
        }
    }

    /**
     * A request of {@value #REQUEST_BLOCKS} blocks (a 512-token prompt and 16,384 output tokens)
     * finishing in a pool of {@code poolBlocks} blocks queued in random order: before each call it
     * takes its blocks from the head of the free queue (scattered over the pool), then 64 MB are
     * read so that, as after the many steps a request runs for, their records are no longer in a
     * cache.
     */
    @State(Scope.Thread)
    public static class FinishState {
        static final int REQUEST_BLOCKS = 1057;

        /** Blocks in the pool. */
        @Param({"270000"})
        public int poolBlocks;

        /** {@code oneByOne}: {@code free(id)} per block, last first; {@code reversed}: {@code freeReversed}. */
        @Param({"oneByOne", "reversed"})
        public String order;

        BlockPool pool;
        int[] ids = new int[0];
        final long[] evictor = new long[8 << 20];
        long evicted;

        @Setup(Level.Trial)
        public void setUp() {
            if (!order.equals("oneByOne") && !order.equals("reversed")) {
                throw new IllegalArgumentException("order must be oneByOne or reversed, got " + order);
            }
            pool = new BlockPool(poolBlocks, BLOCK_SIZE, true);
            int[] all = pool.allocate(pool.usableBlocks());
            shuffle(all, 17);
            pool.free(all);
            pool.grants().takeChanges();
        }

        @Setup(Level.Invocation)
        public void takeBlocks() {
            ids = pool.allocate(REQUEST_BLOCKS);
            pool.grants().takeChanges();
            long sum = evicted;
            for (int i = 0; i < evictor.length; i += 8) {
                sum += evictor[i]++;
            }
            evicted = sum;
        }
    }

    /**
     * A finished request's blocks freed, last first, as the engine frees them: one by one, or with
     * their records read ahead ({@code freeReversed}). Per call: {@value FinishState#REQUEST_BLOCKS}
     * blocks.
     */
    @Benchmark
    public int freeFinishedRequest(FinishState s) {
        if (s.order.equals("reversed")) {
            s.pool.freeReversed(s.ids, s.ids.length);
        } else {
            for (int i = s.ids.length - 1; i >= 0; i--) {
                s.pool.free(s.ids[i]);
            }
        }
        return s.pool.numFreeBlocks();
    }

    /** A hasher and one block's tokens. */
    @State(Scope.Thread)
    public static class HashState {
        BlockHasher hasher;
        int[] tokens;
        BlockHash parent;
        final Optional<String> noSalt = Optional.empty();

        @Setup(Level.Trial)
        public void setUp() {
            hasher = new BlockHasher(BLOCK_SIZE);
            tokens = new int[BLOCK_SIZE];
            SplittableRandom random = new SplittableRandom(11);
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = 1 + random.nextInt(31_999);
            }
            parent = hasher.hash(null, tokens, 0, noSalt);
        }
    }

    /** Allocates {@code blocks} blocks from the free queue and frees them again. */
    @Benchmark
    public int[] allocateAndFree(AllocState s) {
        int[] ids = s.pool.allocate(s.blocks);
        s.pool.free(ids);
        return ids;
    }

    /**
     * One block's turn in steady decode: the block freed longest ago is taken (its hash evicted,
     * one {@code BlockRemoved} event), filled and cached under a new hash (one {@code BlockStored}
     * event), and freed to the tail of the queue. Compare the pool sizes: the step's cost should
     * not grow with the pool.
     */
    @Benchmark
    public int evictCacheAndFree(LruState s) {
        int id = s.pool.allocate(1)[0];
        s.one[0] = id;
        s.oneHash[0] = new BlockHash(s.nextHash++, 17, 29, 31);
        s.pool.cache(s.one, s.oneHash, null);
        s.pool.free(id);
        // What the engine takes every step: the events, and the grant changes for the workers.
        s.pool.drainEventsTo(s.events);
        s.events.clear();
        s.pool.grants().takeChanges();
        return id;
    }

    /** A prefix hit takes a cached free block out of the free queue; freeing it queues it again. */
    @Benchmark
    public int touchAndFreeCachedBlock(CachedState s) {
        s.pool.touch(s.cachedBlock);
        s.pool.free(s.cachedBlock);
        return s.pool.numFreeBlocks();
    }

    /** The local prefix-cache lookup of a fully cached 2048-token prompt (127 block lookups). */
    @Benchmark
    public PrefixHit findCachedPrefix2048(CachedState s) {
        return s.manager.findCachedPrefix(s.prompt);
    }

    /** SHA-256 chained hash of one full 16-token block. */
    @Benchmark
    public BlockHash hashOneBlock(HashState s) {
        return s.hasher.hash(s.parent, s.tokens, 0, s.noSalt);
    }

    /** Puts {@code ids} in a random order drawn from {@code seed} (Fisher-Yates). */
    static void shuffle(int[] ids, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = ids.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = ids[i];
            ids[i] = ids[j];
            ids[j] = t;
        }
    }

    /** The engine's chained hashes of {@code tokens}' full blocks (no salt), as the scheduler computes them. */
    static List<BlockHash> chainedHashes(int[] tokens) {
        BlockHasher hasher = new BlockHasher(BLOCK_SIZE);
        BlockHash[] hashes = new BlockHash[tokens.length / BLOCK_SIZE];
        for (int i = 0; i < hashes.length; i++) {
            hashes[i] = hasher.hash(i == 0 ? null : hashes[i - 1], tokens, i * BLOCK_SIZE, Optional.empty());
        }
        return List.of(hashes);
    }
}
