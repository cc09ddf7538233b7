package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.Request;
import io.kvconnect.core.sched.RequestUpdate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests end on the end-of-sequence token the model samples from the KV it read: they finish as
 * stopped with the token as their last output, identically whatever the worker count, scheduling
 * mode or connector; a request that stops while its blocks are being sent or stored leaves
 * nothing behind.
 */
class StopTokenTest {
    private static final double EOS_RATE = 0.15;
    private static final int MAX_TOKENS = 24;

    private static Map<String, int[]> prompts() {
        SplittableRandom random = new SplittableRandom(5);
        int[] shared = TestEngines.prompt(random, 12);
        Map<String, int[]> prompts = new LinkedHashMap<>();
        for (int i = 0; i < 16; i++) {
            prompts.put(
                    "s" + i, ConnectorTestSupport.concat(shared, TestEngines.prompt(random, 2 + random.nextInt(9))));
        }
        return prompts;
    }

    private static EngineSetup setup(int workers, boolean async) {
        return ConnectorTestSupport.setup(256, workers, async, LoadFailurePolicy.FAIL)
                .withConfig(c -> c.eosRate(EOS_RATE));
    }

    /** Runs every prompt at once; returns the finished updates by id. */
    private static Map<String, RequestUpdate.Finished> run(Engine engine) throws InterruptedException {
        prompts().forEach((id, p) -> engine.addRequest(id, p, MAX_TOKENS));
        Map<String, RequestUpdate.Finished> done = new HashMap<>();
        for (RequestUpdate u : drain(engine)) {
            if (u instanceof RequestUpdate.Finished f) {
                done.put(f.requestId(), f);
            }
        }
        return done;
    }

    @Test
    void requestsStopOnTheEndOfSequenceTokenOrAtTheirLengthCap() throws Exception {
        try (Engine engine = new Engine(setup(1, false))) {
            Map<String, RequestUpdate.Finished> done = run(engine);
            int stopped = 0;
            for (RequestUpdate.Finished f : done.values()) {
                int[] out = f.outputTokens();
                if (f.status() == RequestStatus.FINISHED_STOPPED) {
                    stopped++;
                    assertEquals(Request.EOS_TOKEN_ID, out[out.length - 1], f.requestId());
                    assertTrue(out.length < MAX_TOKENS, f.requestId() + " stopped at its cap");
                } else {
                    assertEquals(RequestStatus.FINISHED_LENGTH_CAPPED, f.status(), f.requestId());
                    assertEquals(MAX_TOKENS, out.length, f.requestId());
                }
                for (int i = 0; i < out.length - 1; i++) {
                    assertNotEquals(Request.EOS_TOKEN_ID, out[i], f.requestId() + " went on after a stop");
                }
            }
            assertTrue(stopped >= 4 && stopped < done.size(), stopped + " of " + done.size() + " stopped early");
            assertEquals((long) stopped, engine.metrics().finishedByStatus().get(RequestStatus.FINISHED_STOPPED));
            assertEquals(0, engine.metrics().mismatches());
        }
    }

    static List<Object[]> modes() {
        List<Object[]> all = new ArrayList<>();
        for (int workers : List.of(1, 2)) {
            for (boolean async : List.of(false, true)) {
                for (int delayFree : List.of(-1, 0, 3)) {
                    all.add(new Object[] {workers, async, delayFree});
                }
            }
        }
        return all;
    }

    @ParameterizedTest(name = "workers={0} asyncScheduling={1} delayFree={2}")
    @MethodSource("modes")
    void stopsAreTheSameWithAConnectorAndLeaveNothingBehind(int workers, boolean async, int delayFree)
            throws Exception {
        Map<String, int[]> expected = new HashMap<>();
        try (Engine plain = new Engine(setup(1, false))) {
            run(plain).forEach((id, f) -> expected.put(id, f.outputTokens()));
        }
        // Stores of every computed block, and (delayFree >= 0) blocks held for a send after the
        // request ends: requests that stop early end while their blocks are stored or sent.
        HostCacheTestConnector connector = new HostCacheTestConnector(
                TestConnectorConfig.builder().asyncLoads(1).delayFree(delayFree).build());
        try (Engine engine = ConnectorTestSupport.engine(setup(workers, async), connector)) {
            Map<String, RequestUpdate.Finished> done = run(engine);
            for (String id : expected.keySet()) {
                assertArrayEquals(expected.get(id), done.get(id).outputTokens(), id);
            }
            assertTrue(engine.metrics().finishedByStatus().getOrDefault(RequestStatus.FINISHED_STOPPED, 0L) > 0);
            assertClean(engine, connector, expected.keySet(), true);
        }
    }
}
