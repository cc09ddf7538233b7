package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cache salts separate prefixes: requests with the same prompt but different salts (or a salt and
 * none) never share GPU prefix blocks, nor blocks a connector stored by hash; the same salt shares
 * as an unsalted prompt does. The salt never changes an output.
 */
class CacheSaltTest {
    private static final int[] PROMPT = prompt(701, 18);
    private static final int MAX_TOKENS = 5;
    /** Full blocks of {@link #PROMPT} a hit can cover (the last token is always computed). */
    private static final int HIT_TOKENS = 16;

    private static void add(Engine engine, String id, Optional<String> salt) {
        engine.addRequest(id, PROMPT, MAX_TOKENS, 0, TransferParams.empty(), salt);
    }

    /** Runs {@code id} alone to completion; returns the GPU prefix hit tokens it got. */
    private static long run(Engine engine, String id, Optional<String> salt) throws Exception {
        long before = engine.scheduler().stats().prefixHits();
        add(engine, id, salt);
        assertEquals(
                salt, engine.scheduler().view().findRequest(id).orElseThrow().cacheSalt());
        drain(engine);
        return engine.scheduler().stats().prefixHits() - before;
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void differentSaltsNeverShareGpuPrefixBlocks(int workers, boolean async) throws Exception {
        int[] expected = reference(1, false, Map.of("r", PROMPT), MAX_TOKENS).get("r");
        try (Engine engine = new Engine(setup(64, workers, async, LoadFailurePolicy.FAIL))) {
            assertEquals(0, run(engine, "x1", Optional.of("tenant-x")));
            assertEquals(0, run(engine, "y1", Optional.of("tenant-y")), "a different salt hit x1's blocks");
            assertEquals(0, run(engine, "none1", Optional.empty()), "no salt hit salted blocks");
            assertEquals(0, run(engine, "empty1", Optional.of("")), "an empty salt hit unsalted blocks");
            assertEquals(HIT_TOKENS, run(engine, "x2", Optional.of("tenant-x")), "the same salt shares");
            assertEquals(HIT_TOKENS, run(engine, "y2", Optional.of("tenant-y")), "the same salt shares");
            assertEquals(HIT_TOKENS, run(engine, "none2", Optional.empty()), "no salt shares with no salt");
            for (String id : List.of("x1", "y1", "none1", "empty1", "x2", "y2", "none2")) {
                assertArrayEquals(expected, engine.metrics().outputs().get(id), id);
            }
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
        }
    }

    /** Both in the engine at once: the second is admitted while the first's blocks are cached. */
    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("io.kvconnect.core.engine.ConnectorTestSupport#modes")
    void differentSaltsDoNotShareWhileBothRun(int workers, boolean async) throws Exception {
        try (Engine engine = new Engine(setup(64, workers, async, LoadFailurePolicy.FAIL))) {
            add(engine, "x", Optional.of("tenant-x"));
            engine.step();
            engine.step();
            add(engine, "y", Optional.of("tenant-y"));
            add(engine, "x-again", Optional.of("tenant-x"));
            drain(engine);
            assertEquals(HIT_TOKENS, engine.scheduler().stats().prefixHits(), "only x-again hits x's blocks");
            assertArrayEquals(
                    engine.metrics().outputs().get("x"),
                    engine.metrics().outputs().get("y"));
            assertArrayEquals(
                    engine.metrics().outputs().get("x"),
                    engine.metrics().outputs().get("x-again"));
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
        }
    }

    /** The connector stores by block hash, so the salt separates what it offers too. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = LoadMode.class,
            names = {"SYNC_START", "ASYNC"})
    void differentSaltsNeverShareConnectorBlocks(LoadMode mode) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().loadMode(mode).build());
        try (Engine engine = ConnectorTestSupport.engine(setup(64, 1, false, LoadFailurePolicy.FAIL), connector)) {
            run(engine, "x1", Optional.of("tenant-x"));
            assertTrue(engine.scheduler().resetPrefixCache());
            assertEquals(0, run(engine, "y1", Optional.of("tenant-y")));
            assertEquals(0, engine.scheduler().stats().connectorHits(), "the connector offered x1's blocks to y1");
            assertTrue(engine.scheduler().resetPrefixCache());
            assertEquals(0, run(engine, "x2", Optional.of("tenant-x")), "GPU hit after a reset");
            assertEquals(HIT_TOKENS, engine.scheduler().stats().connectorHits(), "x2 loaded x1's blocks");
            for (String id : List.of("y1", "x2")) {
                assertArrayEquals(
                        engine.metrics().outputs().get("x1"),
                        engine.metrics().outputs().get(id),
                        id);
            }
            assertClean(engine, connector, List.of("x1", "y1", "x2"), true);
        }
    }
}
