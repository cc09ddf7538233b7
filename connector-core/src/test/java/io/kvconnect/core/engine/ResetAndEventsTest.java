package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static io.kvconnect.core.engine.ConnectorTestSupport.status;
import static io.kvconnect.core.engine.ConnectorTestSupport.stepUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GPU prefix-cache reset and KV events: a reset is refused while any block is held (running
 * requests, a delayed free, a load in flight) and clears the cache once the engine drained, so an
 * identical request finds nothing; the GPU "stored" and "removed" event counts agree with what
 * the pool caches, and blocks are removed exactly when a small pool has to evict.
 */
class ResetAndEventsTest {
    private static final int[] PROMPT = prompt(601, 19);
    private static final int MAX_TOKENS = 6;

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void resetIsRefusedWhileRequestsHoldBlocksAndClearsTheCacheAfterDrain(int workers, boolean async) throws Exception {
        try (Engine engine = new Engine(setup(64, workers, async, LoadFailurePolicy.FAIL))) {
            engine.addRequest("a", PROMPT, MAX_TOKENS);
            engine.step();
            assertTrue(engine.scheduler().view().kvCacheManager().owns("a"), "a holds blocks");
            assertFalse(engine.scheduler().resetPrefixCache(), "reset while a request holds blocks");
            drain(engine);
            // The refused reset cleared nothing: an identical request hits a's blocks.
            long hits = engine.scheduler().stats().prefixHits();
            assertEquals(0, hits);
            engine.addRequest("a2", PROMPT, MAX_TOKENS);
            drain(engine);
            assertEquals(16, engine.scheduler().stats().prefixHits() - hits, "hit tokens of a2");
            assertEquals(null, engine.metrics().eventCounts().get("gpu cleared"));

            assertTrue(engine.scheduler().resetPrefixCache(), "reset of a drained engine");
            assertEquals(0, engine.scheduler().view().kvCacheManager().pool().numCachedBlocks());
            hits = engine.scheduler().stats().prefixHits();
            engine.addRequest("a3", PROMPT, MAX_TOKENS);
            drain(engine);
            assertEquals(hits, engine.scheduler().stats().prefixHits(), "GPU prefix hits after the reset");
            assertEquals(1L, engine.metrics().eventCounts().get("gpu cleared"));

            Map<String, int[]> out = engine.metrics().outputs();
            assertArrayEquals(out.get("a"), out.get("a2"));
            assertArrayEquals(out.get("a"), out.get("a3"));
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
        }
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void resetIsRefusedWhileBlocksWaitForASendOrALoad(boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(3).delayFree(3).build());
        try (Engine engine = ConnectorTestSupport.engine(setup(64, 1, async, LoadFailurePolicy.FAIL), connector)) {
            engine.addRequest("b", PROMPT, MAX_TOKENS);
            stepUntil(engine, () -> engine.metrics().outputs().containsKey("b"), "b finished");
            int held = 0;
            while (engine.scheduler().view().heldForSending().contains("b")) {
                assertFalse(engine.scheduler().hasRequests());
                assertFalse(engine.scheduler().resetPrefixCache(), "reset while blocks wait for a send");
                engine.step();
                assertTrue(++held <= 50, "the send never finished");
            }
            assertTrue(held > 0, "b's blocks were never held for a send");
            assertTrue(engine.scheduler().resetPrefixCache(), "reset once the send finished");

            // Loads from the store (the GPU cache is empty now) asynchronously.
            engine.addRequest("c", PROMPT, MAX_TOKENS);
            stepUntil(
                    engine,
                    () -> status(engine, "c").orElse(null) == RequestStatus.WAITING_FOR_REMOTE_KV,
                    "c waits for its load");
            assertFalse(engine.scheduler().resetPrefixCache(), "reset while a load is in flight");
            drain(engine);
            assertTrue(engine.scheduler().resetPrefixCache(), "reset after the drain");
            assertTrue(engine.scheduler().stats().connectorHits() > 0, "c loaded nothing");
            assertArrayEquals(
                    engine.metrics().outputs().get("b"),
                    engine.metrics().outputs().get("c"));
            // Events of a reset between steps are published with the next step: only the first so far.
            assertEquals(1L, engine.metrics().eventCounts().get("gpu cleared"));
            assertClean(engine, connector, List.of("b", "c"), true);
        }
    }

    /**
     * Twelve different prompts through a pool of 16 blocks: the pool evicts cached blocks to make
     * room, so blocks are removed; with 256 blocks nothing is. In both, every block stored and
     * not removed is still cached — also after a reset, which clears the cache with one event.
     */
    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void storedAndRemovedEventsMatchTheCacheAndEvictionsHappenInASmallPool(boolean async) throws Exception {
        Events small = workload(16, async);
        assertTrue(small.removed() > 0, "a small pool evicted nothing: " + small);
        Events large = workload(256, async);
        assertEquals(0, large.removed(), "a large pool evicted: " + large);
        // A small pool stores at least the blocks a large one does (evicted blocks may be stored again).
        assertTrue(small.stored() >= large.stored(), "stored blocks: small pool " + small + ", large pool " + large);
        assertTrue(small.removedBeforeReset() > 0, "no eviction before the reset: " + small);
    }

    private record Events(long stored, long removed, long removedBeforeReset) {}

    private static Events workload(int gpuBlocks, boolean async) throws Exception {
        try (Engine engine = new Engine(setup(gpuBlocks, 1, async, LoadFailurePolicy.FAIL))) {
            BlockPool pool = engine.scheduler().view().kvCacheManager().pool();
            SplittableRandom random = new SplittableRandom(602);
            for (int wave = 0; wave < 3; wave++) {
                for (int i = 0; i < 4; i++) {
                    engine.addRequest("w" + wave + "r" + i, TestEngines.prompt(random, 13 + random.nextInt(12)), 5);
                }
                drain(engine);
                assertEquals(
                        stored(engine) - removed(engine),
                        pool.numCachedBlocks(),
                        "stored minus removed blocks vs blocks cached, after wave " + wave);
            }
            long storedAtReset = stored(engine);
            long removedAtReset = removed(engine);
            assertTrue(storedAtReset > 0, "nothing was cached");
            assertTrue(engine.scheduler().resetPrefixCache());
            assertEquals(0, pool.numCachedBlocks());
            for (int i = 0; i < 4; i++) {
                engine.addRequest("after" + i, TestEngines.prompt(random, 13 + random.nextInt(12)), 5);
            }
            drain(engine);
            assertEquals(1L, engine.metrics().eventCounts().get("gpu cleared"), "a reset is one 'cleared' event");
            assertEquals(
                    (stored(engine) - storedAtReset) - (removed(engine) - removedAtReset),
                    pool.numCachedBlocks(),
                    "stored minus removed blocks since the reset vs blocks cached");
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
            return new Events(stored(engine), removed(engine), removedAtReset);
        }
    }

    private static long stored(Engine engine) {
        return engine.metrics().eventCounts().getOrDefault("gpu stored", 0L);
    }

    private static long removed(Engine engine) {
        return engine.metrics().eventCounts().getOrDefault("gpu removed", 0L);
    }
}
