package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static io.kvconnect.core.engine.ConnectorTestSupport.status;
import static io.kvconnect.core.engine.ConnectorTestSupport.stepUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.engine.testconnector.Call;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.SchedulerStats;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A request whose connector hit does not fit the pool yet (the reference engine's "unable to
 * allocate" and "cannot receive" cases): it stays waiting with no load started and no blocks, is
 * asked again while it waits, and once room is made it is admitted with one allocation whose local
 * hit and external tokens add up to what it can skip; the hit counts are those of that admission
 * only.
 */
@Timeout(60)
class LoadWithoutRoomTest {
    private static final int PROMPT = 20;
    private static final int MAX_TOKENS = 3;

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (LoadMode mode : List.of(LoadMode.SYNC_START, LoadMode.ASYNC)) {
            ConnectorTestSupport.modes().forEach(m -> all.add(Arguments.of(mode, m.get()[0], m.get()[1])));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} workers={1} async={2}")
    @MethodSource("cases")
    void aHitThatDoesNotFitWaitsWithoutALoadAndIsAdmittedOnceWithItsWholeSkip(LoadMode mode, int workers, boolean async)
            throws Exception {
        int[] p = prompt(95, PROMPT);
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().loadMode(mode).build());
        // Eight usable blocks: one request of 20 + 3 tokens fits (six blocks), two do not.
        try (Engine engine = ConnectorTestSupport.engine(setup(8, workers, async, LoadFailurePolicy.FAIL), connector)) {
            seedStore(engine, "seed", p, MAX_TOKENS);
            SchedulerStats before = engine.scheduler().stats();
            long queries0 = before.connectorQueries();
            long hits0 = before.connectorHits();
            long prefixHits0 = before.prefixHits();

            engine.addRequest("r1", p, MAX_TOKENS);
            engine.addRequest("r2", p, MAX_TOKENS);
            stepUntil(
                    engine,
                    () -> connector.count("getNumNewMatchedTokens", "r2") >= 2,
                    "r2 asked again while r1 holds the pool");
            assertTrue(engine.scheduler().view().kvCacheManager().owns("r1"));
            assertEquals(RequestStatus.WAITING, status(engine, "r2").orElseThrow(), "r2 waits, without a load");
            assertTrue(!engine.scheduler().view().kvCacheManager().owns("r2"), "r2 holds blocks it could not use");
            assertEquals(0, connector.count("updateStateAfterAlloc", "r2"), "r2 was told of an allocation");

            drain(engine);
            int[] expected = engine.metrics().outputs().get("seed");
            assertArrayEquals(expected, engine.metrics().outputs().get("r1"));
            assertArrayEquals(expected, engine.metrics().outputs().get("r2"));

            List<Call> allocs = connector.calls("updateStateAfterAlloc", "r2");
            long external = allocs.getFirst().value();
            long localHit =
                    connector.calls("getNumNewMatchedTokens", "r2").getLast().value();
            assertEquals(PROMPT - 1, localHit + external, "r2 skips all but its last prompt token");
            // r1 finished and left its blocks in the GPU prefix cache: r2 hits them locally.
            assertTrue(localHit > 0, "r2 got no local hit from r1's cached blocks");
            List<Long> promotions = allocs.stream().skip(1).map(Call::value).toList();
            assertTrue(
                    promotions.stream().allMatch(v -> v == 0) && promotions.size() <= 1,
                    "r2 was admitted more than once: " + allocs);

            SchedulerStats s = engine.scheduler().stats();
            assertEquals(PROMPT + (PROMPT - localHit), s.connectorQueries() - queries0, "connector queries");
            assertEquals(PROMPT - 1 + external, s.connectorHits() - hits0, "connector hits");
            assertEquals(localHit, s.prefixHits() - prefixHits0, "local prefix hits");
            assertClean(engine, connector, List.of("seed", "r1", "r2"), true);
        }
    }
}
