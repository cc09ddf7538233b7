package io.kvconnect.core.conformance;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineInvariants;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.model.ModelCost;
import io.kvconnect.core.run.EngineFactory;
import io.kvconnect.core.run.WorkloadDriver;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.SchedulerConfig;
import io.kvconnect.core.sched.SchedulingPolicy;
import io.kvconnect.core.workload.SyntheticChatSpec;
import io.kvconnect.core.workload.SyntheticChatWorkload;
import io.kvconnect.core.workload.Workload;
import java.io.IOException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * The conformance kit: runs a connector through lifecycle scenarios in a real, small engine and
 * checks the engine's invariants after every step. A third-party connector's own tests call it:
 *
 * <pre>{@code
 * ConnectorConformance.of(new MyProvider(), Map.of("capacity", "64MiB")).run().assertPassed();
 * }</pre>
 *
 * <p>Scenarios: a multi-turn chat workload on a GPU pool too small to keep the conversations, with
 * synchronous and asynchronous scheduling and one and two workers — every output must equal the
 * output of the same run without the connector, no KV read may be wrong, and at the end no block,
 * request or connector reference may be left; then the same workload with requests aborted at
 * random points; then runs where every copy waits 3 ms before moving a byte, longer than a step, so
 * requests finish, are aborted or preempted while their copies are queued (a connector must keep
 * the GPU blocks of its copies alive: delayed free, a {@code GPUBlockPoolView} reference, or a
 * fence); then the same workload while the engine's copy service fails some copies and
 * stalls others (a failed copy moves no byte). Under load failure policy {@code recompute} every
 * output must still equal the run without the connector, so a connector must report the GPU blocks
 * of a failed load as invalid and must never offer a block whose store failed (the verifying model
 * catches both); under {@code fail} the requests that do not fail must produce the same outputs.
 * Throughout, {@code requestFinished} must be called exactly once per request and
 * {@code getNumNewMatchedTokens} must not offer more tokens than a request has beyond its local hit.
 *
 * <p>A composite connector finds its children in the catalog the kit gives it; add their
 * providers with {@link #withProviders}.
 *
 * <p>The kit needs the engine (module {@code kvconnect.core}) on the test path, not at run time.
 */
public final class ConnectorConformance {
    /** The kit's model: 2 layers, 2 KV heads of dim 16 in FP16 (128 bytes per token and layer). */
    private static final ModelShape MODEL = new ModelShape("conformance", 2, 2, 16, DType.FP16);
    private static final int BLOCK_SIZE = 4;
    private static final int GPU_BLOCKS = 40;
    private static final int MAX_STEPS = 200_000;

    private final ConnectorProvider provider;
    private final Map<String, Object> config;
    /** What the connector finds through {@code ConnectorContext.catalog()}: itself and any {@link #withProviders}. */
    private final ConnectorCatalog catalog;

    private ConnectorConformance(ConnectorProvider provider, Map<String, Object> config,
                                 List<? extends ConnectorProvider> others) {
        this.provider = Objects.requireNonNull(provider, "provider");
        this.config = Map.copyOf(config);
        this.catalog = KitCatalog.of(provider, others);
    }

    /** A kit for {@code provider} created with {@code config} (the connector's own configuration object). */
    public static ConnectorConformance of(ConnectorProvider provider, Map<String, Object> config) {
        return new ConnectorConformance(provider, config, List.of());
    }

    /**
     * The same kit, with {@code providers} also in the catalog the connector under test is given
     * ({@code ConnectorContext.catalog()}), found by their names. A composite connector needs this
     * to find its children; the engine's own catalog holds every discovered connector. Without it,
     * the catalog holds the connector under test alone.
     *
     * @throws IllegalArgumentException if two providers (the one under test included) share a name
     */
    public ConnectorConformance withProviders(List<? extends ConnectorProvider> providers) {
        return new ConnectorConformance(provider, config, providers);
    }

    /** Runs every scenario; never throws for a failing scenario (see {@link ConformanceResult#assertPassed()}). */
    public ConformanceResult run() {
        List<ConformanceResult.Scenario> scenarios = new ArrayList<>();
        // Conversations outgrow the 40-block GPU pool, so later turns need the connector's copies.
        Workload workload = SyntheticChatWorkload.generate(new SyntheticChatSpec(8, 2, 4, 2, 24, 48, 4, 12, 4, 10,
                2.0, 0.5, 32_000, 7));
        for (boolean async : new boolean[] {false, true}) {
            for (int workers : new int[] {1, 2}) {
                String mode = (async ? "async" : "sync") + " scheduling, " + workers + " worker(s)";
                scenarios.add(scenario("outputs equal the run without the connector (" + mode + ")",
                        () -> sameOutputs(workload, async, workers)));
            }
        }
        scenarios.add(scenario("aborts at random points leave nothing behind (sync scheduling, 2 workers)",
                () -> aborts(false, CopyFaults.NONE)));
        scenarios.add(scenario("aborts at random points leave nothing behind (async scheduling, 2 workers)",
                () -> aborts(true, CopyFaults.NONE)));
        scenarios.add(scenario("slow copies outlive their requests' steps, never reading reused blocks "
                + "(sync scheduling, 1 worker)", () -> slowCopies(workload)));
        scenarios.add(scenario("aborts while copies are slow leave nothing behind (async scheduling, 2 workers)",
                () -> aborts(true, SLOW_COPIES)));
        scenarios.add(scenario("failed and stalled copies are recomputed, never read (load failure policy recompute, "
                + "async scheduling, 2 workers)", () -> failedCopies(workload, LoadFailurePolicy.RECOMPUTE, true)));
        scenarios.add(scenario("failed copies fail only requests that needed them (load failure policy fail, "
                + "sync scheduling, 2 workers)", () -> failedCopies(workload, LoadFailurePolicy.FAIL, false)));
        return new ConformanceResult(scenarios);
    }

    private interface Check {
        String run() throws Exception;
    }

    private static ConformanceResult.Scenario scenario(String name, Check check) {
        try {
            String problem = check.run();
            return new ConformanceResult.Scenario(name, problem.isEmpty(), problem);
        } catch (Exception | AssertionError e) {
            return new ConformanceResult.Scenario(name, false, e.toString());
        }
    }

    private String sameOutputs(Workload workload, boolean async, int workers) throws Exception {
        Outcome without = runWorkload(workload, async, workers, false, LoadFailurePolicy.FAIL, CopyFaults.NONE);
        if (!without.problems.isEmpty()) {
            return "the run without the connector failed (an engine bug): " + String.join("; ", without.problems);
        }
        Map<String, int[]> baseline = without.outputs;
        Outcome with = runWorkload(workload, async, workers, true, LoadFailurePolicy.FAIL, CopyFaults.NONE);
        return compare(baseline, with, false);
    }

    private String slowCopies(Workload workload) throws Exception {
        Outcome without = runWorkload(workload, false, 1, false, LoadFailurePolicy.FAIL, CopyFaults.NONE);
        if (!without.problems.isEmpty()) {
            return "the run without the connector failed (an engine bug): " + String.join("; ", without.problems);
        }
        Outcome with = runWorkload(workload, false, 1, true, LoadFailurePolicy.FAIL, SLOW_COPIES, FAST_GPU);
        return compare(without.outputs, with, false);
    }

    private String failedCopies(Workload workload, LoadFailurePolicy policy, boolean async) throws Exception {
        Outcome without = runWorkload(workload, async, 2, false, policy, CopyFaults.NONE);
        if (!without.problems.isEmpty()) {
            return "the run without the connector failed (an engine bug): " + String.join("; ", without.problems);
        }
        Outcome with = runWorkload(workload, async, 2, true, policy, new FlakyCopies());
        return compare(without.outputs, with, policy == LoadFailurePolicy.FAIL);
    }

    /**
     * Compares a run with the connector against the baseline's outputs.
     *
     * @param failuresAllowed whether requests of the run may fail (their outputs are not compared)
     */
    private static String compare(Map<String, int[]> baseline, Outcome with, boolean failuresAllowed) {
        if (!with.problems.isEmpty()) {
            return String.join("; ", with.problems);
        }
        if (!failuresAllowed && !with.failures.isEmpty()) {
            return "requests failed: " + with.failures;
        }
        if (!baseline.keySet().equals(with.outputs.keySet())) {
            return "finished requests differ: " + baseline.keySet() + " vs " + with.outputs.keySet();
        }
        // A failed turn's partial output becomes part of its session's later prompts, so those
        // turns differ from the baseline too: compare only sessions without a failure.
        Set<String> failedSessions = new HashSet<>();
        for (String id : with.failures.keySet()) {
            failedSessions.add(session(id));
        }
        for (Map.Entry<String, int[]> e : baseline.entrySet()) {
            if (failedSessions.contains(session(e.getKey()))) {
                continue;
            }
            if (!Arrays.equals(e.getValue(), with.outputs.get(e.getKey()))) {
                return "request " + e.getKey() + " produced " + Arrays.toString(with.outputs.get(e.getKey()))
                        + " instead of " + Arrays.toString(e.getValue());
            }
        }
        return "";
    }

    /** The session of a workload request id ({@code "s3/1"} is turn 1 of session {@code s3}). */
    private static String session(String requestId) {
        int slash = requestId.lastIndexOf('/');
        return slash < 0 ? requestId : requestId.substring(0, slash);
    }

    /**
     * @param outputs every finished request's output tokens
     * @param failures why requests failed, by id
     * @param problems what the kit found wrong
     */
    private record Outcome(Map<String, int[]> outputs, Map<String, String> failures, List<String> problems) {
    }

    private Outcome runWorkload(Workload workload, boolean async, int workers, boolean withConnector,
                                LoadFailurePolicy policy, CopyFaults faults) throws Exception {
        return runWorkload(workload, async, workers, withConnector, policy, faults, ModelCost.defaults());
    }

    private Outcome runWorkload(Workload workload, boolean async, int workers, boolean withConnector,
                                LoadFailurePolicy policy, CopyFaults faults, ModelCost cost) throws Exception {
        CountingSchedulerConnector[] counting = new CountingSchedulerConnector[1];
        try (Engine engine = new Engine(setup(async, workers, withConnector, counting, policy, faults, cost))) {
            int[] steps = {0};
            new WorkloadDriver(engine, workload).run(done -> {
                if (++steps[0] > MAX_STEPS) {
                    throw new IllegalStateException("the workload did not finish within " + MAX_STEPS
                            + " steps (a request is stuck)");
                }
            });
            return finish(engine, counting[0]);
        }
    }

    private String aborts(boolean async, CopyFaults faults) throws Exception {
        CountingSchedulerConnector[] counting = new CountingSchedulerConnector[1];
        SplittableRandom random = new SplittableRandom(11);
        try (Engine engine = new Engine(setup(async, 2, true, counting, LoadFailurePolicy.FAIL, faults, FAST_GPU))) {
            int[] shared = tokens(random, 18);
            List<String> ids = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 8; i++) {
                    int[] own = tokens(random, 2 + random.nextInt(12));
                    int[] prompt = Arrays.copyOf(shared, shared.length + own.length);
                    System.arraycopy(own, 0, prompt, shared.length, own.length);
                    String id = "r" + round + "-" + i;
                    ids.add(id);
                    engine.addRequest(id, prompt, 3 + random.nextInt(8));
                }
                for (int step = 0; step < MAX_STEPS && engine.hasWork(); step++) {
                    if (random.nextInt(6) == 0) {
                        engine.abort(ids.get(random.nextInt(ids.size())));
                    }
                    engine.step();
                }
            }
            Outcome outcome = finish(engine, counting[0]);
            long finished = outcome.outputs.size();
            if (finished != ids.size()) {
                return "only " + finished + " of " + ids.size() + " requests finished";
            }
            return String.join("; ", outcome.problems);
        }
    }

    private static Outcome finish(Engine engine, CountingSchedulerConnector counting) throws Exception {
        List<String> problems = new ArrayList<>();
        // Bounded: a connector that reports pending work forever, or a stuck transfer, must fail
        // the scenario, not hang the caller's test.
        for (int step = 0; step < MAX_STEPS && engine.hasWork(); step++) {
            engine.step();
        }
        if (engine.hasWork()) {
            problems.add("the engine still had work after " + MAX_STEPS + " steps (a stuck request or transfer, "
                    + "or hasPendingWork() that never ends)");
            return new Outcome(engine.metrics().outputs(), engine.metrics().failures(), problems);
        }
        try {
            EngineInvariants.checkDrained(engine.scheduler());
        } catch (IllegalStateException e) {
            problems.add(e.getMessage());
        }
        if (engine.metrics().mismatches() > 0) {
            problems.add(engine.metrics().mismatches() + " KV read(s) had wrong content and their output was used");
        }
        engine.close(); // idempotent; the caller's try-with-resources closes again harmlessly
        if (engine.scheduler().stats().leakedConnectorReferences() > 0) {
            problems.add("the connector still held " + engine.scheduler().stats().leakedConnectorReferences()
                    + " GPU block reference(s) at shutdown");
        }
        if (engine.scheduler().stats().hookFailures() > 0) {
            problems.add(engine.scheduler().stats().hookFailures() + " connector hook(s) threw");
        }
        if (counting != null) {
            problems.addAll(counting.problems());
        }
        return new Outcome(engine.metrics().outputs(), engine.metrics().failures(), problems);
    }

    private EngineSetup setup(boolean async, int workers, boolean withConnector, CountingSchedulerConnector[] out,
                              LoadFailurePolicy policy, CopyFaults faults, ModelCost cost) {
        SchedulerConfig scheduler = new SchedulerConfig(64, 16, 32, SchedulingPolicy.FCFS, async, policy);
        Optional<EngineSetup.ConnectorSides> sides = Optional.empty();
        if (withConnector) {
            EngineInfo info = new EngineInfo("conformance", MODEL, BLOCK_SIZE, GPU_BLOCKS, workers, async);
            InstantSource clock = InstantSource.system();
            ConnectorConfig own = ConnectorConfig.of("connector.config", config);
            sides = Optional.of(EngineFactory.sides(provider, own, info, catalog, clock).wrap(s -> {
                out[0] = new CountingSchedulerConnector(s);
                return out[0];
            }, UnaryOperator.identity()));
        }
        return new EngineSetup(MODEL, BLOCK_SIZE, GPU_BLOCKS, workers, scheduler, LayoutKind.PER_LAYER, true,
                cost, sides, faults, true);
    }

    /** {@code n} random token ids of the kit's vocabulary (1 to 31 999). */
    static int[] tokens(SplittableRandom random, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 1 + random.nextInt(31_999);
        }
        return t;
    }

    /**
     * Every copy waits 3 ms before it moves a byte: longer than the kit's engine steps, so a
     * request can finish, be aborted or be preempted while its copies are still queued, and its
     * blocks go to another request unless the connector holds them (delayed free, a {@code
     * GPUBlockPoolView} reference, or a fence).
     */
    private static final CopyFaults SLOW_COPIES = (direction, blockIds) -> Thread.sleep(3);

    /**
     * A model whose steps take no modelled time, so workers do not wait for copies within a step
     * (the engine lets copies use a step's modelled compute time): slow copies then outlive steps.
     */
    private static final ModelCost FAST_GPU = new ModelCost(1e15, 0, 0, 0);

    /**
     * Fails every fifth copy, stalls every seventh for a millisecond and every 23rd for 20 ms
     * (several engine steps, so the GPU blocks of a stalled store or load are freed and handed to
     * other requests meanwhile unless the connector holds them), counted across the workers' copy
     * streams. A failed copy moves no byte.
     */
    private static final class FlakyCopies implements CopyFaults {
        private final AtomicLong copies = new AtomicLong();

        @Override
        public void beforeCopy(Direction direction, int[] blockIds) throws Exception {
            long n = copies.getAndIncrement();
            if (n % 5 == 2) {
                throw new IOException("injected failure of copy " + n + " (" + direction + ", blocks "
                        + Arrays.toString(blockIds) + ")");
            }
            if (n % 23 == 11) {
                Thread.sleep(20);
            } else if (n % 7 == 4) {
                Thread.sleep(1);
            }
        }
    }
}
