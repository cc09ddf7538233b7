package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.assertSameOutputs;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * (h) Finished-transfer reports that repeat, come late, or name requests nobody waits for are
 * counted and ignored by the executor's aggregator: no transfer completes early, nothing stays
 * held, and outputs are unchanged.
 */
class FinishedSignalTest {
    private static final int[] STORED = prompt(101, 19);
    private static final int MAX_TOKENS = 4;

    /** Seeds the store, then three requests load it asynchronously and delay their frees. */
    private static Engine run(HostCacheTestConnector connector, int workers, boolean async) throws Exception {
        Engine engine = ConnectorTestSupport.engine(setup(64, workers, async, LoadFailurePolicy.FAIL), connector);
        seedStore(engine, "seed", STORED, MAX_TOKENS);
        for (int i = 0; i < 3; i++) {
            engine.addRequest("r" + i, STORED, MAX_TOKENS);
        }
        engine.addRequest("plain", prompt(102, 9), MAX_TOKENS);
        drain(engine);
        assertEquals(3, engine.scheduler().stats().connectorAsyncLoads(), "asynchronous loads");
        return engine;
    }

    private static Map<String, int[]> expected() throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("seed", STORED);
        for (int i = 0; i < 3; i++) {
            prompts.put("r" + i, STORED);
        }
        prompts.put("plain", prompt(102, 9));
        return reference(1, false, prompts, MAX_TOKENS);
    }

    /** The finished reports the scheduler ignored, by kind. */
    private record AggregatorCounters(long duplicates, long late, long unknown) {}

    /** Outputs and cleanliness; closes the engine and returns the counts of ignored finished reports. */
    private static AggregatorCounters check(HostCacheTestConnector connector, Engine engine) throws Exception {
        try (engine) {
            assertSameOutputs(expected(), engine.metrics().outputs());
            assertClean(engine, connector, expected().keySet(), true);
            var s = engine.scheduler().stats();
            return new AggregatorCounters(
                    s.duplicateFinishedReports(), s.lateFinishedReports(), s.unknownFinishedReports());
        }
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void duplicateReportsOfOneRankBeforeTheOthersAreIgnored(boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(1)
                .delayFree(1)
                .rankSkew(3)
                .duplicateReports(2)
                .build());
        AggregatorCounters counters = check(connector, run(connector, 2, async));
        assertTrue(counters.duplicates() > 0, "no duplicate counted: " + counters);
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void reportsAfterCompletionAreLateAndIgnored(boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(1)
                .delayFree(2)
                .duplicateReports(2)
                .build());
        AggregatorCounters counters = check(connector, run(connector, 1, async));
        assertTrue(counters.late() >= 4 * 2, "late reports counted: " + counters);
        assertEquals(0, counters.duplicates());
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void reportsOfUnknownRequestsAreIgnored(boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(1)
                .delayFree(1)
                .unknownReports(3)
                .build());
        AggregatorCounters counters = check(connector, run(connector, 2, async));
        assertEquals(2 * 3 * 2, counters.unknown(), "unknown reports (2 ranks x 3 steps x 2 directions)");
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void expectedFinishedCountOfOneCompletesWithTheFirstRank(boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(1)
                .delayFree(1)
                .expectedFinishedCount(1)
                .reportingRanks(0)
                .build());
        AggregatorCounters counters = check(connector, run(connector, 2, async));
        assertEquals(new AggregatorCounters(0, 0, 0), counters);
    }

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {false, true})
    void expectedFinishedCountOfOneIgnoresTheOtherRanksReports(boolean async) throws Exception {
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .asyncLoads(1)
                .delayFree(1)
                .expectedFinishedCount(1)
                .rankSkew(2)
                .build());
        AggregatorCounters counters = check(connector, run(connector, 2, async));
        // Rank 1 reports each load and send after rank 0 completed it (the last ones may come after
        // the engine stopped stepping, so they are never collected).
        assertTrue(counters.late() >= 3, "late reports of the second rank: " + counters);
        assertEquals(0, counters.unknown());
        assertEquals(0, counters.duplicates());
        assertEquals(List.of(), connector.problems());
    }
}
