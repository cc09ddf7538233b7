package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.testkit.doubles.FakeRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Random operation sequences against simple models: the pool against expected reference counts,
 * free-queue order and cache map; the manager against the blocks its requests own.
 */
class BlockPoolPropertiesTest {
    private static final int BS = 16;

    /** One random step; {@code a} and {@code b} pick its arguments relative to the current state. */
    record Op(int kind, int a, int b) {}

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Integer> any = Arbitraries.integers().between(0, 10_000);
        return Combinators.combine(Arbitraries.integers().between(0, 9), any, any)
                .as(Op::new)
                .list()
                .ofMinSize(1)
                .ofMaxSize(60);
    }

    // ------------------------------------------------------------------------------------------
    // BlockPool against a model
    // ------------------------------------------------------------------------------------------

    /** What the pool should hold. */
    private static final class PoolModel {
        final int[] ref;
        final BlockHash[] hash;
        final List<Integer> queue = new ArrayList<>();
        final Map<BlockHash, Integer> cache = new HashMap<>();
        long fresh;

        PoolModel(int numBlocks) {
            ref = new int[numBlocks];
            hash = new BlockHash[numBlocks];
            for (int id = 1; id < numBlocks; id++) {
                queue.add(id);
            }
        }

        List<Integer> where(java.util.function.IntPredicate p) {
            List<Integer> out = new ArrayList<>();
            for (int id = 1; id < ref.length; id++) {
                if (p.test(id)) {
                    out.add(id);
                }
            }
            return out;
        }

        BlockHash freshHash(int salt) {
            return new BlockHash(++fresh, salt, 0xB10C, 0x4A54);
        }

        KvEvent drop(int id) {
            BlockHash h = hash[id];
            hash[id] = null;
            cache.remove(h);
            return new KvEvent.BlockRemoved(List.of(h), 0, StorageMedium.GPU);
        }
    }

    @Property(tries = 200)
    void thePoolFollowsItsModel(
            @ForAll @IntRange(min = 2, max = 12) int numBlocks, @ForAll boolean caching, @ForAll("ops") List<Op> ops) {
        BlockPool pool = new BlockPool(numBlocks, BS, caching);
        PoolModel m = new PoolModel(numBlocks);
        compare(pool, m);
        for (Op op : ops) {
            List<KvEvent> expected = new ArrayList<>();
            switch (op.kind()) {
                case 0, 1 -> allocate(pool, m, op, expected);
                case 2, 3 -> touch(pool, m, op);
                case 4, 5 -> free(pool, m, op);
                case 6, 7 -> cache(pool, m, op, caching);
                case 8 -> evict(pool, m, op, expected);
                default -> reset(pool, m, expected);
            }
            if (op.kind() != 6 && op.kind() != 7) {
                assertEquals(oneEventPerRunOfRemovals(expected), pool.takeEvents(), "events of " + op);
            }
            compare(pool, m);
        }
    }

    /**
     * The model's events as the pool reports them: hashes dropped one after another, with no other
     * event between, are one {@code BlockRemoved} event.
     */
    private static List<KvEvent> oneEventPerRunOfRemovals(List<KvEvent> events) {
        List<KvEvent> out = new ArrayList<>();
        for (KvEvent e : events) {
            if (e instanceof KvEvent.BlockRemoved r
                    && !out.isEmpty()
                    && out.getLast() instanceof KvEvent.BlockRemoved last) {
                List<BlockHash> hashes = new ArrayList<>(last.blockHashes());
                hashes.addAll(r.blockHashes());
                out.set(out.size() - 1, new KvEvent.BlockRemoved(hashes, 0, StorageMedium.GPU));
            } else {
                out.add(e);
            }
        }
        return out;
    }

    private static void allocate(BlockPool pool, PoolModel m, Op op, List<KvEvent> expected) {
        int n = op.a() % (m.queue.size() + 2);
        if (n > m.queue.size()) {
            assertThrows(IllegalStateException.class, () -> pool.allocate(n));
            return;
        }
        int[] ids = pool.allocate(n);
        int[] want = new int[n];
        for (int i = 0; i < n; i++) {
            int id = m.queue.removeFirst();
            want[i] = id;
            m.ref[id] = 1;
            if (m.hash[id] != null) {
                expected.add(m.drop(id));
            }
        }
        assertArrayEquals(want, ids, "least recently freed first");
    }

    private static void touch(BlockPool pool, PoolModel m, Op op) {
        List<Integer> candidates = m.where(id -> m.ref[id] > 0 || m.hash[id] != null);
        if (candidates.isEmpty()) {
            return;
        }
        int id = candidates.get(op.a() % candidates.size());
        pool.touch(id);
        if (m.ref[id]++ == 0) {
            m.queue.remove(Integer.valueOf(id));
        }
    }

    private static void free(BlockPool pool, PoolModel m, Op op) {
        List<Integer> free = m.where(id -> m.ref[id] == 0);
        if (op.b() % 5 == 0 && !free.isEmpty()) {
            int id = free.get(op.a() % free.size());
            assertThrows(IllegalStateException.class, () -> pool.free(id), "double free");
            return;
        }
        List<Integer> held = m.where(id -> m.ref[id] > 0);
        if (held.isEmpty()) {
            return;
        }
        int id = held.get(op.a() % held.size());
        pool.free(id);
        if (--m.ref[id] == 0) {
            m.queue.add(id);
        }
    }

    private static void cache(BlockPool pool, PoolModel m, Op op, boolean caching) {
        List<Integer> held = m.where(id -> m.ref[id] > 0);
        if (held.isEmpty()) {
            return;
        }
        int start = op.a() % held.size();
        int len = 1 + op.b() % Math.min(4, held.size() - start);
        List<Integer> run = held.subList(start, start + len);
        int[] ids = run.stream().mapToInt(Integer::intValue).toArray();
        BlockHash[] hashes = new BlockHash[len];
        List<BlockHash> duplicates = new ArrayList<>();
        m.cache.forEach((h, id) -> {
            if (!run.contains(id)) {
                duplicates.add(h);
            }
        });
        duplicates.sort((x, y) -> Long.compare(x.h0(), y.h0()));
        for (int i = 0; i < len; i++) {
            int id = ids[i];
            if (m.hash[id] != null) {
                hashes[i] = m.hash[id];
            } else if ((op.b() >> i) % 3 == 0 && !duplicates.isEmpty()) {
                hashes[i] = duplicates.removeFirst();
            } else {
                hashes[i] = m.freshHash(op.b());
            }
        }
        BlockHash parent = op.a() % 2 == 0 ? null : m.freshHash(-1);

        // Sometimes name another hash for a block that is already cached: refused, nothing changes.
        int conflict = -1;
        for (int i = 0; i < len && op.b() % 7 == 0; i++) {
            if (m.hash[ids[i]] != null) {
                conflict = i;
                break;
            }
        }
        if (conflict >= 0) {
            BlockHash[] bad = hashes.clone();
            bad[conflict] = m.freshHash(-2);
            assertThrows(IllegalStateException.class, () -> pool.cache(ids, bad, parent));
            assertEquals(List.of(), pool.takeEvents());
            return;
        }

        pool.cache(ids, hashes, parent);
        List<BlockHash> newlyCached = new ArrayList<>();
        if (caching) {
            for (int i = 0; i < len; i++) {
                int id = ids[i];
                if (m.hash[id] == null && !m.cache.containsKey(hashes[i])) {
                    m.hash[id] = hashes[i];
                    m.cache.put(hashes[i], id);
                    newlyCached.add(hashes[i]);
                }
            }
        }
        checkStoredEvents(pool.takeEvents(), parent, hashes, newlyCached);
    }

    /** Stored events list exactly the newly cached hashes, each event a consecutive run after its parent. */
    private static void checkStoredEvents(
            List<KvEvent> events, BlockHash parent, BlockHash[] hashes, List<BlockHash> newlyCached) {
        List<BlockHash> seq = new ArrayList<>();
        seq.add(parent);
        seq.addAll(Arrays.asList(hashes));
        List<BlockHash> all = new ArrayList<>();
        for (KvEvent e : events) {
            var s = assertInstanceOf(KvEvent.BlockStored.class, e);
            assertEquals(BS, s.blockSize());
            assertEquals(0, s.group());
            assertEquals(StorageMedium.GPU, s.medium());
            int first = seq.indexOf(s.blockHashes().getFirst());
            assertTrue(first >= 1, "stored hash not in the run");
            assertEquals(Optional.ofNullable(seq.get(first - 1)), s.parent(), "parent of " + s);
            assertEquals(seq.subList(first, first + s.blockHashes().size()), s.blockHashes(), "consecutive");
            all.addAll(s.blockHashes());
        }
        assertEquals(newlyCached, all);
    }

    private static <T> T assertInstanceOf(Class<T> type, Object value) {
        assertTrue(type.isInstance(value), () -> "expected a " + type.getSimpleName() + ": " + value);
        return type.cast(value);
    }

    private static void evict(BlockPool pool, PoolModel m, Op op, List<KvEvent> expected) {
        int usable = m.ref.length - 1;
        int[] ids = {1 + op.a() % usable, 1 + op.b() % usable};
        int count = 0;
        for (int id : ids) {
            if (m.hash[id] != null) {
                expected.add(m.drop(id));
                count++;
            }
        }
        assertEquals(count, pool.evict(ids));
    }

    private static void reset(BlockPool pool, PoolModel m, List<KvEvent> expected) {
        boolean allFree = m.queue.size() == m.ref.length - 1;
        assertEquals(allFree, pool.resetPrefixCache());
        if (allFree) {
            Arrays.fill(m.hash, null);
            m.cache.clear();
            expected.add(new KvEvent.AllBlocksCleared(StorageMedium.GPU));
        }
    }

    private static void compare(BlockPool pool, PoolModel m) {
        pool.checkStructure();
        int zero = 0;
        for (int id = 1; id < m.ref.length; id++) {
            assertEquals(m.ref[id], pool.refCount(id), "refCount of " + id);
            assertEquals(m.hash[id], pool.hashOf(id), "hash of " + id);
            if (m.ref[id] == 0) {
                zero++;
            }
        }
        assertEquals(zero, pool.numFreeBlocks());
        assertEquals(m.queue.size(), pool.numFreeBlocks());
        assertEquals(m.cache.size(), pool.numCachedBlocks());
        m.cache.forEach((h, id) -> assertEquals(id, pool.lookup(h)));
        int[] visited = {0};
        pool.forEachCached((id, h, free) -> {
            assertEquals(id, pool.lookup(h), "cached hash maps back to its block");
            assertEquals(m.ref[id] == 0, free);
            visited[0]++;
        });
        assertEquals(m.cache.size(), visited[0]);
    }

    // ------------------------------------------------------------------------------------------
    // KvCacheManager: requests sharing prefixes
    // ------------------------------------------------------------------------------------------

    @Property(tries = 200)
    void requestsReturnEveryBlock(
            @ForAll @IntRange(min = 2, max = 32) int numBlocks,
            @ForAll @IntRange(min = 1, max = 4) int blockSize,
            @ForAll boolean caching,
            @ForAll @Size(min = 1, max = 3)
                    List<@Size(min = 2, max = 12) List<@IntRange(min = 0, max = 3) Integer>> prefixes,
            @ForAll("ops") List<Op> ops) {
        BlockPool pool = new BlockPool(numBlocks, blockSize, caching);
        KvCacheManager kv = new KvCacheManager(pool);
        Map<String, FakeRequest> live = new LinkedHashMap<>();
        int next = 0;
        int admitted = 0;
        for (Op op : ops) {
            switch (op.kind()) {
                case 0, 1, 2 -> {
                    FakeRequest r = newRequest("r" + next++, blockSize, prefixes, op);
                    PrefixHit hit = kv.findCachedPrefix(r);
                    assertEquals(hit.numBlocks() * blockSize, hit.tokens());
                    assertTrue(hit.tokens() < Math.max(1, r.numTokens()), "the last token is always computed");
                    for (int i = 0; i < hit.numBlocks(); i++) {
                        assertEquals(r.blockHash(i), pool.hashOf(hit.blocks()[i]), "a hit matches the prefix");
                    }
                    int total = r.numTokens() + (op.b() % 3) * blockSize;
                    int revived = 0;
                    for (int id : hit.blocks()) {
                        revived += pool.refCount(id) == 0 ? 1 : 0;
                    }
                    int freshNeeded = Math.max(0, (total + blockSize - 1) / blockSize - hit.numBlocks());
                    boolean fits = freshNeeded + revived <= pool.numFreeBlocks();
                    String before = state(pool, kv);
                    int[] fresh = kv.allocate(r.requestId(), total, hit);
                    assertEquals(fits, fresh != null, "fits: " + freshNeeded + " fresh + " + revived + " revived");
                    if (fresh == null) {
                        assertEquals(before, state(pool, kv), "a failed allocation changes nothing");
                        assertFalse(kv.owns(r.requestId()));
                    } else {
                        live.put(r.requestId(), r);
                        admitted++;
                        int[] owned = kv.blockIds(r.requestId());
                        assertArrayEquals(hit.blocks(), Arrays.copyOf(owned, hit.numBlocks()));
                        assertArrayEquals(fresh, Arrays.copyOfRange(owned, hit.numBlocks(), owned.length));
                        assertEquals(0, kv.blocksNeeded(r.requestId(), total));
                        if (op.a() % 3 != 0) {
                            kv.cacheUpTo(r, r.numTokens() - op.b() % 2); // the prefill (or most of it) ran
                        }
                    }
                }
                case 3, 4 -> {
                    FakeRequest r = pick(live, op.a());
                    if (r != null) {
                        kv.cacheUpTo(r, op.b() % (r.numTokens() + 1));
                    }
                }
                case 5 -> {
                    FakeRequest r = pick(live, op.a());
                    if (r != null) {
                        int have = kv.numBlocks(r.requestId());
                        int want = (have + 1 + op.b() % 2) * blockSize;
                        int needed = kv.blocksNeeded(r.requestId(), want);
                        int free = pool.numFreeBlocks();
                        int[] fresh = kv.allocate(r.requestId(), want, PrefixHit.NONE);
                        if (needed > free) {
                            assertNull(fresh);
                            assertEquals(have, kv.numBlocks(r.requestId()));
                        } else {
                            assertEquals(needed, fresh.length);
                        }
                    }
                }
                case 6, 7, 8 -> {
                    FakeRequest r = pick(live, op.a());
                    if (r != null) {
                        kv.free(r.requestId());
                        live.remove(r.requestId());
                    }
                }
                default -> {
                    // A failed load: the request's blocks from some index on lose their content.
                    FakeRequest r = pick(live, op.a());
                    if (r != null && kv.numBlocks(r.requestId()) > 0) {
                        int from = op.b() % kv.numBlocks(r.requestId());
                        kv.evict(kv.blocksFrom(r.requestId(), from).toArray());
                        kv.uncacheFrom(r.requestId(), from);
                    }
                }
            }
            checkOwnership(pool, kv, live);
            pool.takeEvents();
        }

        List<String> order = new ArrayList<>(live.keySet());
        for (int i = 0; !order.isEmpty(); i++) {
            String id = order.remove((i * 7 + ops.size()) % order.size());
            kv.free(id);
            live.remove(id);
            checkOwnership(pool, kv, live);
        }

        assertTrue(kv.owners().isEmpty());
        assertEquals(numBlocks - 1, pool.numFreeBlocks());
        for (int id = 1; id < numBlocks; id++) {
            assertEquals(0, pool.refCount(id), "block " + id);
        }
        assertTrue(pool.resetPrefixCache());
        assertEquals(0, pool.numCachedBlocks());
        if (admitted == 0) {
            assertEquals(numBlocks - 1, pool.numFreeBlocks());
        }
    }

    private static FakeRequest newRequest(String id, int blockSize, List<List<Integer>> prefixes, Op op) {
        List<Integer> prefix = prefixes.get(op.a() % prefixes.size());
        int keep = op.b() % 2 == 0 ? prefix.size() : op.b() % (prefix.size() + 1);
        int extra = (op.a() / 7) % 6;
        int[] tokens = new int[keep + extra];
        for (int i = 0; i < keep; i++) {
            tokens[i] = prefix.get(i);
        }
        for (int i = 0; i < extra; i++) {
            tokens[keep + i] = 100 + (op.b() / 3 + i) % 5;
        }
        Optional<String> salt = op.b() % 11 == 0 ? Optional.of("tenant") : Optional.empty();
        return TestRequests.of(id, blockSize, salt, tokens);
    }

    private static FakeRequest pick(Map<String, FakeRequest> live, int a) {
        if (live.isEmpty()) {
            return null;
        }
        return new ArrayList<>(live.values()).get(a % live.size());
    }

    private static String state(BlockPool pool, KvCacheManager kv) {
        var s = new StringBuilder();
        for (int id = 1; id < pool.numBlocks(); id++) {
            s.append(id)
                    .append(':')
                    .append(pool.refCount(id))
                    .append('/')
                    .append(pool.hashOf(id))
                    .append(' ');
        }
        s.append("free=").append(pool.numFreeBlocks()).append(" owners=").append(new java.util.TreeSet<>(kv.owners()));
        return s.toString();
    }

    /**
     * Every block's reference count is the number of requests that own it, the free count is the
     * number of unreferenced blocks, and a cached block always holds the content its hash names.
     */
    private static void checkOwnership(BlockPool pool, KvCacheManager kv, Map<String, FakeRequest> live) {
        pool.checkStructure();
        assertEquals(live.keySet(), kv.owners());
        int[] owners = new int[pool.numBlocks()];
        for (FakeRequest r : live.values()) {
            int[] ids = kv.blockIds(r.requestId());
            for (int i = 0; i < ids.length; i++) {
                owners[ids[i]]++;
                BlockHash h = pool.hashOf(ids[i]);
                if (i < r.numBlockHashes()) {
                    if (h != null) {
                        assertEquals(r.blockHash(i), h, r.requestId() + " block " + i + " holds other content");
                    }
                } else {
                    assertNull(h, r.requestId() + " block " + i + " is not full but cached");
                }
            }
        }
        int zero = 0;
        for (int id = 1; id < pool.numBlocks(); id++) {
            assertEquals(owners[id], pool.refCount(id), "refCount of block " + id);
            if (owners[id] == 0) {
                zero++;
            }
        }
        assertEquals(zero, pool.numFreeBlocks());
        pool.forEachCached((id, h, free) -> assertEquals(id, pool.lookup(h)));
    }
}
