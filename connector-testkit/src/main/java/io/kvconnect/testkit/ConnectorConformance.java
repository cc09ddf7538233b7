package io.kvconnect.testkit;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.core.config.EngineConfig;
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
import java.time.Duration;
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
 * Throughout, {@code requestFinished} must be called exactly once per request, {@code
 * getNumNewMatchedTokens} must not offer more tokens than a request has beyond its local hit, and
 * each worker's step report must name in finished receives only requests the engine granted an
 * asynchronous load, in finished sends only requests whose free the connector delayed, each at
 * most once per worker and transfer, and no block id below 1 among its failed loads.
 *
 * <p>Three more scenarios check what the engine promises around failures: failed loads reported a
 * step late (every output must still equal the run without the connector, so the connector must not
 * store or serve what a request computed from a failed load before the engine confirmed it); every
 * load failing (each request is granted at most two loads and finishes by recomputation in bounded
 * steps); and a worker hook that throws once on one rank, losing that rank's orders of a step (the
 * run must end, with the engine giving up what never completes after its connector timeout).
 *
 * <p>The model samples an end-of-sequence token now and then, so requests also stop early, some
 * while their blocks are being stored or sent. Each scenario reports what it exercised (hit tokens,
 * blocks loaded and stored, preemptions, load failures); a connector that is not declared a
 * pass-through ({@link #passThrough()}) and never serves a load in any scenario fails the kit.
 *
 * <p>A composite connector finds its children in the catalog the kit gives it; add their
 * providers with {@link #withProviders}.
 *
 * <p>A connector adds the kit ({@code connector-testkit}) in test scope; it brings the engine it runs
 * connectors in, which the connector never needs at run time.
 */
public final class ConnectorConformance {
    /** The kit's model: 2 layers, 2 KV heads of dim 16 in FP16 (128 bytes per token and layer). */
    private static final ModelShape MODEL = new ModelShape("conformance", 2, 2, 16, DType.FP16);

    private static final int BLOCK_SIZE = 4;
    private static final int GPU_BLOCKS = 40;
    private static final int MAX_STEPS = 200_000;
    /** End-of-sequence rate of the kit's model: with 4 to 12 output tokens, many requests stop early. */
    private static final double EOS_RATE = 0.1;
    /**
     * The engine's connector timeout in the kit: short, so a lost step ends a scenario quickly, yet
     * far above what any transfer of the kit's small engine takes.
     */
    private static final Duration CONNECTOR_TIMEOUT = Duration.ofMillis(500);
    /** The worker-side bind call that throws in the lost-step scenario: mid-run, loads and stores going on. */
    private static final int LOST_STEP_CALL = 30;

    private final ConnectorProvider provider;
    private final Map<String, Object> config;
    /** What the connector finds through {@code ConnectorContext.catalog()}: itself and any {@link #withProviders}. */
    private final ConnectorCatalog catalog;

    private final List<? extends ConnectorProvider> others;
    private final boolean passThrough;

    private ConnectorConformance(
            ConnectorProvider provider,
            Map<String, Object> config,
            List<? extends ConnectorProvider> others,
            boolean passThrough) {
        this.provider = Objects.requireNonNull(provider, "provider");
        this.config = Map.copyOf(config);
        this.others = List.copyOf(others);
        this.catalog = KitCatalog.of(provider, others);
        this.passThrough = passThrough;
    }

    /** A kit for {@code provider} created with {@code config} (the connector's own configuration object). */
    public static ConnectorConformance of(ConnectorProvider provider, Map<String, Object> config) {
        return new ConnectorConformance(provider, config, List.of(), false);
    }

    /**
     * The same kit for a connector that loads nothing by design (an observer, a metrics exporter):
     * without this, a connector that serves no load in any scenario fails the kit, since a storage
     * connector that never loads is broken.
     */
    public ConnectorConformance passThrough() {
        return new ConnectorConformance(provider, config, others, true);
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
        return new ConnectorConformance(provider, config, providers, passThrough);
    }

    /** Runs every scenario; never throws for a failing scenario (see {@link ConformanceResult#assertPassed()}). */
    public ConformanceResult run() {
        List<ConformanceResult.Scenario> scenarios = new ArrayList<>();
        // Conversations outgrow the 40-block GPU pool, so later turns need the connector's copies.
        Workload workload = SyntheticChatWorkload.generate(
                new SyntheticChatSpec(8, 2, 4, 2, 24, 48, 4, 12, 4, 10, 2.0, 0.5, 32_000, 7));
        for (boolean async : new boolean[] {false, true}) {
            for (int workers : new int[] {1, 2}) {
                String mode = (async ? "async" : "sync") + " scheduling, " + workers + " worker(s)";
                scenarios.add(scenario(
                        "outputs equal the run without the connector (" + mode + ")",
                        ex -> sameOutputs(workload, async, workers, ex)));
            }
        }
        scenarios.add(scenario(
                "aborts at random points leave nothing behind (sync scheduling, 2 workers)",
                ex -> aborts(false, CopyFaults.NONE, ex)));
        scenarios.add(scenario(
                "aborts at random points leave nothing behind (async scheduling, 2 workers)",
                ex -> aborts(true, CopyFaults.NONE, ex)));
        scenarios.add(scenario(
                "slow copies outlive their requests' steps, never reading reused blocks "
                        + "(sync scheduling, 1 worker)",
                ex -> slowCopies(workload, ex)));
        scenarios.add(scenario(
                "stores stalled while a tight pool hands freed blocks out again store only what was "
                        + "computed, as reloading everything shows (sync scheduling, 1 worker)",
                this::stalledStoresReused));
        scenarios.add(scenario(
                "aborts while copies are slow leave nothing behind (async scheduling, 2 workers)",
                ex -> aborts(true, SLOW_COPIES, ex)));
        scenarios.add(scenario(
                "failed and stalled copies are recomputed, never read (load failure policy recompute, "
                        + "async scheduling, 2 workers)",
                ex -> failedCopies(workload, LoadFailurePolicy.RECOMPUTE, true, ex)));
        scenarios.add(scenario(
                "failed copies fail only requests that needed them (load failure policy fail, "
                        + "sync scheduling, 2 workers)",
                ex -> failedCopies(workload, LoadFailurePolicy.FAIL, false, ex)));
        scenarios.add(scenario(
                "failed loads reported a step late are never used, stored or served (load failure "
                        + "policy recompute, async scheduling, 2 workers)",
                ex -> lateFailureReports(workload, ex)));
        scenarios.add(scenario(
                "every load fails: requests are loaded at most twice and recomputed in bounded steps "
                        + "(load failure policy recompute, sync scheduling, 2 workers)",
                ex -> everyLoadFails(workload, ex)));
        scenarios.add(scenario(
                "a worker hook that throws once on one rank loses its step, and nothing hangs "
                        + "(connector_errors fail_requests, 2 workers)",
                ex -> lostStep(workload, ex)));
        if (!passThrough) {
            ConformanceResult.Exercised all = ConformanceResult.Exercised.NONE;
            for (ConformanceResult.Scenario sc : scenarios) {
                all = all.plus(sc.exercised());
            }
            boolean loaded = all.hitTokens() > 0;
            scenarios.add(new ConformanceResult.Scenario(
                    "the connector served loads in the scenarios (declare a "
                            + "connector that loads nothing by design with passThrough())",
                    loaded,
                    loaded
                            ? ""
                            : "no scenario loaded a single token from the connector: a storage connector that never loads "
                                    + "is broken",
                    ConformanceResult.Exercised.NONE));
        }
        return new ConformanceResult(scenarios);
    }

    private interface Check {
        String run(ConformanceResult.Exercised[] exercised) throws Exception;
    }

    private static ConformanceResult.Scenario scenario(String name, Check check) {
        ConformanceResult.Exercised[] exercised = {ConformanceResult.Exercised.NONE};
        try {
            String problem = check.run(exercised);
            return new ConformanceResult.Scenario(name, problem.isEmpty(), problem, exercised[0]);
        } catch (Exception | AssertionError e) {
            return new ConformanceResult.Scenario(name, false, e.toString(), exercised[0]);
        }
    }

    private String sameOutputs(Workload workload, boolean async, int workers, ConformanceResult.Exercised[] ex)
            throws Exception {
        return compared(workload, Run.of(async, workers, LoadFailurePolicy.FAIL), ex, false);
    }

    private String slowCopies(Workload workload, ConformanceResult.Exercised[] ex) throws Exception {
        return compared(
                workload,
                Run.of(false, 1, LoadFailurePolicy.FAIL).withCopies(SLOW_COPIES).withCost(FAST_GPU),
                ex,
                false);
    }

    private String failedCopies(
            Workload workload, LoadFailurePolicy policy, boolean async, ConformanceResult.Exercised[] ex)
            throws Exception {
        return compared(
                workload, Run.of(async, 2, policy).withCopies(new FlakyCopies()), ex, policy == LoadFailurePolicy.FAIL);
    }

    private String lateFailureReports(Workload workload, ConformanceResult.Exercised[] ex) throws Exception {
        FaultInjector late = new FaultInjector(new FaultPlan(0, 0, 0, 0, 1), 17);
        return compared(
                workload,
                Run.of(true, 2, LoadFailurePolicy.RECOMPUTE)
                        .withCopies(new FlakyCopies())
                        .withWorkerWrapper(w -> new FaultyWorkerConnector(w, late)),
                ex,
                false);
    }

    private String everyLoadFails(Workload workload, ConformanceResult.Exercised[] ex) throws Exception {
        CopyFaults noLoads = (direction, blockIds) -> {
            if (direction == CopyFaults.Direction.FROM_HOST) {
                throw new IOException("injected: every load fails (blocks " + Arrays.toString(blockIds) + ")");
            }
        };
        int[] mostLoads = {0};
        String problem = compared(
                workload,
                Run.of(false, 2, LoadFailurePolicy.RECOMPUTE)
                        .withCopies(noLoads)
                        .withOnCounting(c -> mostLoads[0] = c.maxLoadsPerRequest()),
                ex,
                false);
        if (problem.isEmpty() && mostLoads[0] > 2) {
            return "a request was granted " + mostLoads[0] + " loads although every load fails (the engine allows "
                    + "two)";
        }
        return problem;
    }

    /**
     * Waves of short requests over a shared prefix keep the pool full, so blocks freed by finished
     * requests go to new ones within a step or two, while every store out of the GPU cache waits 10
     * ms before it reads a byte. Then the GPU prefix cache is cleared and every prompt comes again:
     * the connector serves what it stored, and a block it read after the engine handed it to
     * another request shows up as a wrong load.
     */
    private String stalledStoresReused(ConformanceResult.Exercised[] ex) throws Exception {
        Map<String, int[]> without = reuseRun(false, ex);
        if (without == null) {
            return "the run without the connector failed (an engine bug)";
        }
        String[] problem = {""};
        Map<String, int[]> with = reuseRun(true, ex, problem);
        if (!problem[0].isEmpty()) {
            return problem[0];
        }
        for (Map.Entry<String, int[]> e : without.entrySet()) {
            if (!Arrays.equals(e.getValue(), with.get(e.getKey()))) {
                return "request " + e.getKey() + " produced " + Arrays.toString(with.get(e.getKey())) + " instead of "
                        + Arrays.toString(e.getValue());
            }
        }
        return "";
    }

    private Map<String, int[]> reuseRun(boolean withConnector, ConformanceResult.Exercised[] ex) throws Exception {
        String[] problem = {""};
        Map<String, int[]> out = reuseRun(withConnector, ex, problem);
        return problem[0].isEmpty() ? out : null;
    }

    private Map<String, int[]> reuseRun(boolean withConnector, ConformanceResult.Exercised[] ex, String[] problem)
            throws Exception {
        java.util.concurrent.atomic.AtomicBoolean stall = new java.util.concurrent.atomic.AtomicBoolean(true);
        CopyFaults stalledStores = (direction, blockIds) -> {
            if (direction == CopyFaults.Direction.TO_HOST && stall.get()) {
                Thread.sleep(10);
            }
        };
        CountingSchedulerConnector[] counting = new CountingSchedulerConnector[1];
        Run run = Run.of(false, 1, LoadFailurePolicy.FAIL)
                .withCopies(stalledStores)
                .withCost(FAST_GPU);
        SplittableRandom random = new SplittableRandom(23);
        int[] shared = tokens(random, 10);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            int[] own = tokens(random, 6 + random.nextInt(14));
            int[] prompt = Arrays.copyOf(shared, shared.length + own.length);
            System.arraycopy(own, 0, prompt, shared.length, own.length);
            prompts.add(prompt);
        }
        try (Engine engine = new Engine(setup(run, withConnector, counting))) {
            for (int i = 0; i < prompts.size(); i++) {
                engine.addRequest("first-" + i, prompts.get(i), 2 + i % 3);
                if (i % 5 == 4) {
                    engine.step();
                    engine.step();
                }
            }
            for (int step = 0; step < MAX_STEPS && engine.hasWork(); step++) {
                engine.step();
            }
            stall.set(false);
            if (!engine.scheduler().resetPrefixCache()) {
                problem[0] = "the GPU prefix cache could not be cleared after a drained run (blocks still held)";
                return Map.of();
            }
            for (int i = 0; i < prompts.size(); i++) {
                engine.addRequest("again-" + i, prompts.get(i), 2 + i % 3);
                engine.step();
            }
            Outcome outcome = finish(engine, counting[0], false);
            if (withConnector) {
                ex[0] = ex[0].plus(outcome.exercised);
            }
            problem[0] = String.join("; ", outcome.problems);
            return outcome.outputs;
        }
    }

    private String lostStep(Workload workload, ConformanceResult.Exercised[] ex) throws Exception {
        return compared(
                workload,
                Run.of(false, 2, LoadFailurePolicy.RECOMPUTE)
                        .withLostStepOnRank(1)
                        .expectingHookFailures(),
                ex,
                true);
    }

    /** Runs {@code workload} without and with the connector under {@code run}, and compares. */
    private String compared(Workload workload, Run run, ConformanceResult.Exercised[] ex, boolean failuresAllowed)
            throws Exception {
        Outcome without = runWorkload(workload, run, false);
        if (!without.problems.isEmpty()) {
            return "the run without the connector failed (an engine bug): " + String.join("; ", without.problems);
        }
        Outcome with = runWorkload(workload, run, true);
        ex[0] = ex[0].plus(with.exercised);
        return compare(without.outputs, with, failuresAllowed);
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
    private record Outcome(
            Map<String, int[]> outputs,
            Map<String, String> failures,
            List<String> problems,
            ConformanceResult.Exercised exercised) {}

    /**
     * How one run of a scenario is set up.
     *
     * @param async asynchronous scheduling
     * @param workers tensor-parallel workers
     * @param policy the load failure policy
     * @param copies copy faults of the engine's copy service
     * @param cost the modelled compute cost
     * @param workerWrapper wraps each worker side (fault decorators)
     * @param lostStepRank the rank whose worker side loses one step's orders, or -1
     * @param hookFailuresExpected whether hook failures are part of the scenario (not a problem)
     * @param onCounting told the call-counting decorator of the connector once the run ended
     */
    private record Run(
            boolean async,
            int workers,
            LoadFailurePolicy policy,
            CopyFaults copies,
            ModelCost cost,
            UnaryOperator<WorkerConnector> workerWrapper,
            int lostStepRank,
            boolean hookFailuresExpected,
            java.util.function.Consumer<CountingSchedulerConnector> onCounting) {
        static Run of(boolean async, int workers, LoadFailurePolicy policy) {
            return new Run(
                    async,
                    workers,
                    policy,
                    CopyFaults.NONE,
                    ModelCost.defaults(),
                    UnaryOperator.identity(),
                    -1,
                    false,
                    c -> {});
        }

        Run withCopies(CopyFaults c) {
            return new Run(
                    async, workers, policy, c, cost, workerWrapper, lostStepRank, hookFailuresExpected, onCounting);
        }

        Run withCost(ModelCost c) {
            return new Run(
                    async, workers, policy, copies, c, workerWrapper, lostStepRank, hookFailuresExpected, onCounting);
        }

        Run withWorkerWrapper(UnaryOperator<WorkerConnector> w) {
            return new Run(async, workers, policy, copies, cost, w, lostStepRank, hookFailuresExpected, onCounting);
        }

        Run withLostStepOnRank(int rank) {
            return new Run(async, workers, policy, copies, cost, workerWrapper, rank, hookFailuresExpected, onCounting);
        }

        Run expectingHookFailures() {
            return new Run(async, workers, policy, copies, cost, workerWrapper, lostStepRank, true, onCounting);
        }

        Run withOnCounting(java.util.function.Consumer<CountingSchedulerConnector> c) {
            return new Run(async, workers, policy, copies, cost, workerWrapper, lostStepRank, hookFailuresExpected, c);
        }
    }

    private Outcome runWorkload(Workload workload, Run run, boolean withConnector) throws Exception {
        CountingSchedulerConnector[] counting = new CountingSchedulerConnector[1];
        try (Engine engine = new Engine(setup(run, withConnector, counting))) {
            int[] steps = {0};
            new WorkloadDriver(engine, workload).run(done -> {
                if (++steps[0] > MAX_STEPS) {
                    throw new IllegalStateException(
                            "the workload did not finish within " + MAX_STEPS + " steps (a request is stuck)");
                }
            });
            Outcome outcome = finish(engine, counting[0], run.hookFailuresExpected());
            if (counting[0] != null) {
                run.onCounting().accept(counting[0]);
            }
            return outcome;
        }
    }

    private String aborts(boolean async, CopyFaults faults, ConformanceResult.Exercised[] ex) throws Exception {
        CountingSchedulerConnector[] counting = new CountingSchedulerConnector[1];
        SplittableRandom random = new SplittableRandom(11);
        Run run = Run.of(async, 2, LoadFailurePolicy.FAIL).withCopies(faults).withCost(FAST_GPU);
        try (Engine engine = new Engine(setup(run, true, counting))) {
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
            Outcome outcome = finish(engine, counting[0], false);
            ex[0] = ex[0].plus(outcome.exercised);
            long finished = outcome.outputs.size();
            if (finished != ids.size()) {
                return "only " + finished + " of " + ids.size() + " requests finished";
            }
            return String.join("; ", outcome.problems);
        }
    }

    private static Outcome finish(Engine engine, CountingSchedulerConnector counting, boolean hookFailuresExpected)
            throws Exception {
        List<String> problems = new ArrayList<>();
        // Bounded: a connector that reports pending work forever, or a stuck transfer, must fail
        // the scenario, not hang the caller's test.
        for (int step = 0; step < MAX_STEPS && engine.hasWork(); step++) {
            engine.step();
        }
        if (engine.hasWork()) {
            problems.add("the engine still had work after " + MAX_STEPS + " steps (a stuck request or transfer, "
                    + "or hasPendingWork() that never ends)");
            return new Outcome(engine.metrics().outputs(), engine.metrics().failures(), problems, exercised(engine));
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
            problems.add("the connector still held "
                    + engine.scheduler().stats().leakedConnectorReferences() + " GPU block reference(s) at shutdown");
        }
        var refused = engine.executor().refusedCopies();
        if (refused.total() > 0) {
            problems.add("the engine refused " + refused.total() + " of the connector's copies (" + refused.notInUse()
                    + " out of free blocks, " + refused.notLoadTarget() + " into blocks of no granted load, "
                    + refused.freed() + " of blocks freed before the copy ran): a connector must keep the blocks of "
                    + "its copies alive (a delayed free or GPUBlockPoolView.touch) and load only what it was granted");
        }
        if (engine.scheduler().stats().hookFailures() > 0 && !hookFailuresExpected) {
            problems.add(engine.scheduler().stats().hookFailures() + " connector hook(s) threw");
        }
        if (counting != null) {
            problems.addAll(counting.problems());
        }
        return new Outcome(engine.metrics().outputs(), engine.metrics().failures(), problems, exercised(engine));
    }

    private static ConformanceResult.Exercised exercised(Engine engine) {
        var stats = engine.scheduler().stats();
        var ex = engine.executor();
        return new ConformanceResult.Exercised(
                stats.connectorHits(),
                ex.blocksCopied(CopyFaults.Direction.FROM_HOST)
                        / engine.setup().config().workers(),
                ex.blocksCopied(CopyFaults.Direction.TO_HOST)
                        / engine.setup().config().workers(),
                stats.preemptions(),
                stats.loadFailures());
    }

    private EngineSetup setup(Run run, boolean withConnector, CountingSchedulerConnector[] out) {
        SchedulerConfig scheduler = new SchedulerConfig(64, 16, 32, SchedulingPolicy.FCFS, run.async(), run.policy())
                .withConnectorTimeout(CONNECTOR_TIMEOUT);
        Optional<EngineSetup.ConnectorSides> sides = Optional.empty();
        if (withConnector) {
            EngineInfo info = new EngineInfo("conformance", MODEL, BLOCK_SIZE, GPU_BLOCKS, run.workers(), run.async());
            InstantSource clock = InstantSource.system();
            ConnectorConfig own = ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, config);
            ReportLedger ledger = new ReportLedger();
            EngineSetup.ConnectorSides wrapped = EngineFactory.sides(provider, own, info, catalog, clock)
                    .wrap(
                            s -> {
                                out[0] = new CountingSchedulerConnector(s, ledger);
                                return out[0];
                            },
                            run.workerWrapper());
            var base = wrapped;
            // The report checks see each report as the engine does: after any fault decorator.
            wrapped = new EngineSetup.ConnectorSides(
                    base.name(),
                    base.scheduler(),
                    rank -> new CheckingWorkerConnector(
                            rank == run.lostStepRank()
                                    ? new FaultyWorkerConnector(
                                            base.workers().apply(rank),
                                            FaultInjector.throwingOnce("bindConnectorMetadata", LOST_STEP_CALL))
                                    : base.workers().apply(rank),
                            ledger,
                            rank));
            sides = Optional.of(wrapped);
        }
        // The copy faults hit only the run with the connector: the baseline must be fault-free.
        EngineConfig config = EngineConfig.builder(MODEL, BLOCK_SIZE, GPU_BLOCKS, run.workers(), scheduler)
                .cost(run.cost())
                .eosRate(EOS_RATE)
                .build();
        return new EngineSetup(config, sides, withConnector ? run.copies() : CopyFaults.NONE, true);
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
