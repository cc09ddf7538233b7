package io.kvconnect.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.RequestUpdate;
import io.kvconnect.core.sched.SchedulerView;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Shared helpers of the connector lifecycle tests: engines with and without the {@link
 * HostCacheTestConnector}, bounded stepping (an engine bug must fail a test, never hang it),
 * workloads, and the checks every test ends with.
 */
final class ConnectorTestSupport {
    /** Steps any single drive may take before the test fails with the engine's state. */
    static final int MAX_STEPS = 5_000;

    private ConnectorTestSupport() {}

    /** (workers, async scheduling) combinations the cheap tests run in. */
    static Stream<Arguments> modes() {
        return Stream.of(Arguments.of(1, false), Arguments.of(1, true), Arguments.of(2, false), Arguments.of(2, true));
    }

    /** An engine setup without a connector. */
    static EngineSetup setup(int gpuBlocks, int workers, boolean async, LoadFailurePolicy policy) {
        EngineSetup s = TestEngines.setup(gpuBlocks, workers, async);
        return s.withConfig(c -> c.scheduler(s.config().scheduler().withLoadFailurePolicy(policy)));
    }

    /** {@code base} with {@code connector} wired in. */
    static EngineSetup with(EngineSetup base, HostCacheTestConnector connector) {
        return base.withConnector(Optional.of(new EngineSetup.ConnectorSides(
                HostCacheTestConnector.NAME, connector.schedulerSide(), connector::workerSide)));
    }

    /** An engine over {@code base} with {@code connector}. */
    static Engine engine(EngineSetup base, HostCacheTestConnector connector) {
        return new Engine(with(base, connector));
    }

    /** Steps until the engine has nothing left to do; fails with its state after {@code maxSteps}. */
    static List<RequestUpdate> drain(Engine engine) throws InterruptedException {
        return drain(engine, MAX_STEPS);
    }

    static List<RequestUpdate> drain(Engine engine, int maxSteps) throws InterruptedException {
        List<RequestUpdate> all = new ArrayList<>();
        int steps = 0;
        while (engine.hasWork()) {
            if (++steps > maxSteps) {
                fail("engine did not drain within " + maxSteps + " steps: " + state(engine));
            }
            all.addAll(engine.step());
        }
        return all;
    }

    /** Steps until {@code condition} holds (checked before each step); returns the steps taken. */
    static int stepUntil(Engine engine, BooleanSupplier condition, String what) throws InterruptedException {
        int steps = 0;
        while (!condition.getAsBoolean()) {
            if (++steps > MAX_STEPS) {
                fail("never reached: " + what + "; " + state(engine));
            }
            engine.step();
        }
        return steps;
    }

    /** The engine's request state, for failure messages. */
    static String state(Engine engine) {
        SchedulerView s = engine.scheduler().view();
        return "step " + s.step() + ", known " + s.knownRequests().values() + ", waiting "
                + s.waitingRequests().stream().map(RequestView::requestId).toList() + ", running "
                + s.runningRequests().stream().map(RequestView::requestId).toList() + ", held for sending "
                + s.heldForSending() + ", held for receiving " + s.heldForReceiving();
    }

    /** The status of a known request, or empty once the engine forgot it. */
    static Optional<RequestStatus> status(Engine engine, String id) {
        return engine.scheduler().view().findRequest(id).map(RequestView::status);
    }

    /**
     * What every test ends with: drained, nothing held, {@code requestFinished} exactly once for
     * each request, no contract or content problem seen by the connector, and (unless the test
     * is about failures) no KV mismatch.
     */
    static void assertClean(
            Engine engine, HostCacheTestConnector connector, Iterable<String> ids, boolean expectNoMismatches) {
        EngineInvariants.checkDrained(engine.scheduler());
        if (expectNoMismatches) {
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
        }
        if (connector != null) {
            assertEquals(List.of(), connector.problems(), "connector problems");
            for (String id : ids) {
                // A request refused at arrival (too large for the pool) never reaches the connector.
                String reason = engine.metrics().failures().getOrDefault(id, "");
                int expected = reason.startsWith("request too large") ? 0 : 1;
                assertEquals(expected, connector.count("requestFinished", id), "requestFinished calls for " + id);
                assertEquals(expected, connector.count("onNewRequest", id), "onNewRequest calls for " + id);
            }
        }
        assertEquals(0L, engine.executor().modelCounters().trackedRequests(), "requests workers still track");
    }

    /** Asserts equal outputs for every id of {@code expected}. */
    static void assertSameOutputs(Map<String, int[]> expected, Map<String, int[]> actual) {
        assertEquals(expected.keySet(), actual.keySet(), "finished requests");
        for (String id : expected.keySet()) {
            assertArrayEquals(expected.get(id), actual.get(id), "output of " + id);
        }
    }

    /** A random prompt. */
    static int[] prompt(long seed, int n) {
        return TestEngines.prompt(new SplittableRandom(seed), n);
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = new int[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /**
     * A multi-turn chat: {@code conversations} conversations share a system prompt; turn {@code t}
     * of each is its whole history (earlier prompts and the engine's own answers) plus a new user
     * message. Turns run as waves, each drained before the next, so the next prompts use this
     * engine's outputs. Returns every output by request id ({@code c<conv>t<turn>}).
     */
    static Map<String, int[]> multiTurn(Engine engine, int conversations, int turns, long seed)
            throws InterruptedException {
        SplittableRandom random = new SplittableRandom(seed);
        int[] system = TestEngines.prompt(random, 9);
        int[][] history = new int[conversations][];
        for (int c = 0; c < conversations; c++) {
            history[c] = system;
        }
        Map<String, int[]> outputs = new LinkedHashMap<>();
        for (int t = 0; t < turns; t++) {
            for (int c = 0; c < conversations; c++) {
                history[c] = concat(history[c], TestEngines.prompt(random, 3 + random.nextInt(5)));
                engine.addRequest("c" + c + "t" + t, history[c], 3 + random.nextInt(4));
            }
            drain(engine);
            for (int c = 0; c < conversations; c++) {
                String id = "c" + c + "t" + t;
                int[] out = engine.metrics().outputs().get(id);
                assertTrue(out != null, id + " did not finish");
                outputs.put(id, out);
                history[c] = concat(history[c], out);
            }
        }
        return outputs;
    }

    /** Runs {@code requests} (id, prompt, max tokens) on an engine without a connector. */
    static Map<String, int[]> reference(int workers, boolean async, Map<String, int[]> prompts, int maxTokens)
            throws InterruptedException {
        try (Engine e = new Engine(setup(256, workers, async, LoadFailurePolicy.FAIL))) {
            prompts.forEach((id, p) -> e.addRequest(id, p, maxTokens));
            drain(e);
            assertEquals(0, e.metrics().mismatches());
            return new LinkedHashMap<>(e.metrics().outputs());
        }
    }

    /** Runs {@code prompt} as request {@code id} to completion, then clears the GPU prefix cache. */
    static void seedStore(Engine engine, String id, int[] prompt, int maxTokens) throws InterruptedException {
        engine.addRequest(id, prompt, maxTokens);
        drain(engine);
        assertTrue(engine.scheduler().resetPrefixCache(), "prefix cache reset");
    }
}
