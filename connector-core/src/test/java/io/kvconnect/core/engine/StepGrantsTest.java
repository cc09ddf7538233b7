package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.concat;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.seedStore;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.testconnector.Call;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.sched.LoadFailurePolicy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Under asynchronous scheduling the engine thread decides about step N+1 (and takes aborts) while
 * the workers still run step N. A synchronous load of step N must be copied by the grants of step
 * N whatever the engine thread decides meanwhile: otherwise whether it lands or is refused (and with
 * it the blocks loaded, a failed load, what the connector stores and every later hit) depends on
 * which thread gets there first. Each test holds the step's load in {@code startLoadKv} until the
 * engine thread has freed the loading request's blocks, the interleaving that used to refuse it.
 */
class StepGrantsTest {
    /** Holds a bound on a wait that only a broken engine makes long: a failed test, never a hang. */
    private static final long GATE_SECONDS = 10;

    static Stream<Arguments> modes() {
        return Stream.of(
                Arguments.of(1, LoadMode.SYNC_START),
                Arguments.of(1, LoadMode.SYNC_LAYER),
                Arguments.of(2, LoadMode.SYNC_START),
                Arguments.of(2, LoadMode.SYNC_LAYER));
    }

    /**
     * Holds every rank's first load until {@link #open()} or, if asked, until the engine thread has
     * scheduled a later step; records a wait that ran out instead of throwing on a worker thread.
     */
    private static final class Gate {
        private final boolean untilNextStep;
        private long heldStep = -1; // guarded by this
        private long lastScheduled = -1; // guarded by this
        private boolean opened; // guarded by this
        final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();

        Gate(boolean untilNextStep) {
            this.untilNextStep = untilNextStep;
        }

        /** Engine thread: the connector's metadata of {@code step} is being built. */
        synchronized void scheduled(long step) {
            lastScheduled = step;
            notifyAll();
        }

        synchronized void open() {
            opened = true;
            notifyAll();
        }

        /** Worker threads, before the loads of {@code step}. */
        synchronized void beforeLoads(long step) {
            if (heldStep < 0) {
                heldStep = step;
            }
            if (heldStep != step) {
                return;
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(GATE_SECONDS);
            try {
                while (!opened && !(untilNextStep && lastScheduled > step)) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        problems.add("the load of step " + step + " was never let go");
                        return;
                    }
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problems.add("interrupted while holding the load of step " + step);
            }
        }
    }

    /** Every block the connector asked to load was loaded: no load copy was refused or lost. */
    private static void assertEveryLoadCopied(Engine engine, HostCacheTestConnector connector, String id) {
        assertEquals(
                0,
                engine.executor().refusedCopies().total(),
                "refused copies: " + engine.executor().refusedCopies());
        long asked = connector.calls("startLoadKv", id).stream()
                .mapToLong(Call::value)
                .sum();
        assertTrue(asked > 0, "no load was asked for");
        assertEquals(asked, engine.executor().blocksCopied(CopyFaults.Direction.FROM_HOST), "blocks loaded");
    }

    @ParameterizedTest(name = "workers={0} loads={1}")
    @MethodSource("modes")
    void aLoadRunsInItsStepWhenTheNextStepPreemptsItsRequest(int workers, LoadMode mode) throws Exception {
        // 7 blocks of 4 tokens: a decoding request takes 2, the loader the other 5; when the decoding
        // one needs its third block in the next step, the loader (admitted last) is preempted.
        int[] decoding = prompt(21, 7);
        int[] stored = prompt(22, 16);
        int[] loading = concat(stored, prompt(23, 1));
        Gate gate = new Gate(true);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(mode)
                .loadGate(gate::beforeLoads)
                .build());
        // The held load goes on once the engine thread has planned the next step (and preempted).
        connector.observeCalls(call -> {
            if (call.hook().equals("buildConnectorMetadata")) {
                gate.scheduled(call.value());
            }
        });
        EngineSetup base = ConnectorTestSupport.setup(7, workers, true, LoadFailurePolicy.FAIL);
        try (Engine engine = ConnectorTestSupport.engine(base, connector)) {
            seedStore(engine, "seed", stored, 1);
            engine.addRequest("decoding", decoding, 12);
            engine.step();
            engine.addRequest("loading", loading, 3);
            drain(engine);
            assertEquals(List.of(), List.copyOf(gate.problems));
            assertTrue(engine.scheduler().stats().preemptions() > 0, "the loader was never preempted");
            assertEveryLoadCopied(engine, connector, "loading");
            assertArrayEquals(
                    reference(workers, true, Map.of("decoding", decoding), 12).get("decoding"),
                    engine.metrics().outputs().get("decoding"));
            assertArrayEquals(
                    reference(workers, true, Map.of("loading", loading), 3).get("loading"),
                    engine.metrics().outputs().get("loading"));
            assertClean(engine, connector, Set.of("seed", "decoding", "loading"), true);
        }
    }

    @ParameterizedTest(name = "workers={0} loads={1}")
    @MethodSource("modes")
    void aLoadRunsInItsStepWhenItsRequestIsAbortedMeanwhile(int workers, LoadMode mode) throws Exception {
        int[] stored = prompt(31, 16);
        Gate gate = new Gate(false);
        HostCacheTestConnector connector = new HostCacheTestConnector(TestConnectorConfig.builder()
                .loadMode(mode)
                .loadGate(gate::beforeLoads)
                .build());
        EngineSetup base = ConnectorTestSupport.setup(32, workers, true, LoadFailurePolicy.FAIL);
        try (Engine engine = ConnectorTestSupport.engine(base, connector)) {
            seedStore(engine, "seed", stored, 1);
            engine.addRequest("aborted", concat(stored, prompt(32, 3)), 4);
            engine.step(); // schedules and submits the load; the workers hold it
            engine.abort("aborted"); // frees its blocks: nothing delays the free
            gate.open();
            drain(engine);
            assertEquals(List.of(), List.copyOf(gate.problems));
            assertEquals(1, engine.scheduler().stats().requestsAborted());
            assertEveryLoadCopied(engine, connector, "aborted");
            assertClean(engine, connector, Set.of("seed", "aborted"), true);
        }
    }
}
