package io.kvconnect.testkit;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.scheduler.ResetResult;
import io.kvconnect.api.worker.MemoryKind;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineInvariants;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.memory.CudaSource;
import io.kvconnect.core.memory.MemorySelection;
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
import java.util.function.Predicate;
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
 * <p>Four scenarios target bugs storage connectors ship: loads delayed on a copy stream of their
 * own while stores run on theirs (the API orders copies per direction only), over the connector's
 * tight configuration ({@link #withTightConfig}), so a host slot reused under a queued load shows
 * as wrong KV; identical blocks behind other prefixes and one prompt under two cache salts, which
 * must get no external token; requests preempted and resumed while their stores are queued, then
 * every prompt again extended by its output; and, after a drained run, a reset that must succeed
 * and fresh prompts that must hit again (leaked pins or slots). In every scenario the connector's
 * {@code hit_tokens} and {@code stored_blocks} counters, if it has them, and its stored-block KV
 * events are compared with what the engine granted and copied ({@link AccountCheck}), and a run
 * without progress for 10 s fails naming the requests left ({@link StallGuard}).
 *
 * <p>The model samples an end-of-sequence token now and then, so requests also stop early, some
 * while their blocks are being stored or sent. Each scenario reports what it exercised (hit tokens,
 * blocks loaded and stored, preemptions, load failures, evictions, GPU blocks held past their
 * request, host slots reused); a connector that is not declared a pass-through ({@link
 * #passThrough()}) and never serves a load in any scenario fails the kit.
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
    /** End-of-sequence rate of the kit's model: with 4 to 12 output tokens, many requests stop early. */
    private static final double EOS_RATE = 0.1;
    /**
     * The engine's connector timeout in the kit: short, so a lost step ends a scenario quickly, yet
     * far above what any transfer of the kit's small engine takes.
     */
    private static final Duration CONNECTOR_TIMEOUT = Duration.ofMillis(500);
    /** The worker-side bind call that throws in the lost-step scenario: mid-run, loads and stores going on. */
    private static final int LOST_STEP_CALL = 30;
    /** How often the reset scenario asks a drained connector to reset, a step apart. */
    private static final int RESET_ATTEMPTS = 50;

    private final ConnectorProvider provider;
    private final Map<String, Object> config;
    /** What the connector finds through {@code ConnectorContext.catalog()}: itself and any {@link #withProviders}. */
    private final ConnectorCatalog catalog;

    private final List<? extends ConnectorProvider> others;
    private final boolean passThrough;
    /** The connector's configuration with a tier of a few blocks, or {@code null} for {@link #config}. */
    private final Map<String, Object> tightConfig;
    /** Which scenarios run, by name. */
    private final Predicate<String> selected;
    /** Where the engines' CUDA comes from: the machine's, or device memory simulated on the host. */
    private final CudaSource cuda;

    private ConnectorConformance(
            ConnectorProvider provider,
            Map<String, Object> config,
            List<? extends ConnectorProvider> others,
            boolean passThrough,
            Map<String, Object> tightConfig,
            Predicate<String> selected,
            CudaSource cuda) {
        this.cuda = Objects.requireNonNull(cuda, "cuda");
        this.provider = Objects.requireNonNull(provider, "provider");
        this.config = Map.copyOf(config);
        this.others = List.copyOf(others);
        this.catalog = KitCatalog.of(provider, others);
        this.passThrough = passThrough;
        this.tightConfig = tightConfig == null ? null : Map.copyOf(tightConfig);
        this.selected = Objects.requireNonNull(selected, "selected");
    }

    /** A kit for {@code provider} created with {@code config} (the connector's own configuration object). */
    public static ConnectorConformance of(ConnectorProvider provider, Map<String, Object> config) {
        return new ConnectorConformance(provider, config, List.of(), false, null, name -> true, CudaSource.JCUDA);
    }

    /**
     * The same kit for a connector that loads nothing by design (an observer, a metrics exporter):
     * without this, a connector that serves no load in any scenario fails the kit, since a storage
     * connector that never loads is broken.
     */
    public ConnectorConformance passThrough() {
        return new ConnectorConformance(provider, config, others, true, tightConfig, selected, cuda);
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
        return new ConnectorConformance(provider, config, providers, passThrough, tightConfig, selected, cuda);
    }

    /**
     * The same kit, with a configuration of the connector whose storage holds only a few blocks
     * (the kit's blocks are 4 tokens, 1 KiB across all workers; from 8 to a few dozen of them),
     * for the scenarios that need a full tier: host slots reused while a load still reads them, and
     * the reset after a drained run. Without it, those scenarios run with the main configuration,
     * and a connector with a large tier may never evict in them (their report shows it).
     */
    public ConnectorConformance withTightConfig(Map<String, Object> tight) {
        return new ConnectorConformance(
                provider, config, others, passThrough, Objects.requireNonNull(tight, "tight"), selected, cuda);
    }

    /**
     * The same kit, running only the scenarios whose name {@code names} accepts: for a test that
     * shows one scenario catching one bug. The check that the connector served loads somewhere is
     * skipped unless every scenario runs.
     */
    public ConnectorConformance onlyScenarios(Predicate<String> names) {
        return new ConnectorConformance(provider, config, others, passThrough, tightConfig, names, cuda);
    }

    /**
     * The same kit with every engine's KV caches (the baseline's too) in CUDA device memory
     * simulated on the host: device allocations, streams, events, strided copies and the fences
     * between the model and the copy service run as on a device, each CUDA call made by plain host
     * code. It shows a connector works through the engine's device path (pinned buffers, coalesced
     * copies), not how it performs on a GPU. A scenario whose engine did not get device memory fails.
     */
    public ConnectorConformance onSimulatedDeviceMemory() {
        return new ConnectorConformance(
                provider, config, others, passThrough, tightConfig, selected, CudaSource.hostFake(1));
    }

    /** Runs every scenario; never throws for a failing scenario (see {@link ConformanceResult#assertPassed()}). */
    public ConformanceResult run() {
        List<Planned> planned = new ArrayList<>();
        // Conversations outgrow the 40-block GPU pool, so later turns need the connector's copies.
        Workload workload = SyntheticChatWorkload.generate(
                new SyntheticChatSpec(8, 2, 4, 2, 24, 48, 4, 12, 4, 10, 2.0, 0.5, 32_000, 7));
        for (boolean async : new boolean[] {false, true}) {
            for (int workers : new int[] {1, 2}) {
                String mode = (async ? "async" : "sync") + " scheduling, " + workers + " worker(s)";
                planned.add(new Planned(
                        "outputs equal the run without the connector (" + mode + ")",
                        ex -> sameOutputs(workload, async, workers, ex)));
            }
        }
        planned.add(new Planned(
                "aborts at random points leave nothing behind (sync scheduling, 2 workers)",
                ex -> aborts(false, CopyFaults.NONE, ex)));
        planned.add(new Planned(
                "aborts at random points leave nothing behind (async scheduling, 2 workers)",
                ex -> aborts(true, CopyFaults.NONE, ex)));
        planned.add(new Planned(
                "slow copies outlive their requests' steps, never reading reused blocks "
                        + "(sync scheduling, 1 worker)",
                ex -> slowCopies(workload, ex)));
        planned.add(new Planned(
                "stores stalled while a tight pool hands freed blocks out again store only what was "
                        + "computed, as reloading everything shows (sync scheduling, 1 worker)",
                this::stalledStoresReused));
        planned.add(new Planned(
                "aborts while copies are slow leave nothing behind (async scheduling, 2 workers)",
                ex -> aborts(true, SLOW_COPIES, ex)));
        planned.add(new Planned(
                "failed and stalled copies are recomputed, never read (load failure policy recompute, "
                        + "async scheduling, 2 workers)",
                ex -> failedCopies(workload, LoadFailurePolicy.RECOMPUTE, true, ex)));
        planned.add(new Planned(
                "failed copies fail only requests that needed them (load failure policy fail, "
                        + "sync scheduling, 2 workers)",
                ex -> failedCopies(workload, LoadFailurePolicy.FAIL, false, ex)));
        planned.add(new Planned(
                "failed loads reported a step late are never used, stored or served (load failure "
                        + "policy recompute, async scheduling, 2 workers)",
                ex -> lateFailureReports(workload, ex)));
        planned.add(new Planned(
                "every load fails: requests are loaded at most twice and recomputed in bounded steps "
                        + "(load failure policy recompute, sync scheduling, 2 workers)",
                ex -> everyLoadFails(workload, ex)));
        planned.add(new Planned(
                "a worker hook that throws once on one rank loses its step, and nothing hangs "
                        + "(connector_errors fail_requests, 2 workers)",
                ex -> lostStep(workload, ex)));
        planned.add(new Planned(
                "a load still reading host slots keeps them while stores run on their own stream (tight "
                        + "configuration, independent copy directions, async scheduling, 1 worker)",
                this::hostSlotsKeptForLoads));
        planned.add(new Planned(
                "keys name the whole prefix and the cache salt: identical blocks behind other prefixes or "
                        + "under another salt are never served (sync scheduling, 1 worker)",
                this::keysNamePrefixAndSalt));
        planned.add(new Planned(
                "requests preempted and resumed while their stores are queued store their blocks as they "
                        + "are now, as reloading prompt and output shows (sync scheduling, 1 worker)",
                this::preemptedWhileStoring));
        planned.add(new Planned(
                "after a drained run the connector resets and serves hits again: nothing leaked (tight "
                        + "configuration, sync scheduling, 1 worker)",
                this::resetsAndServesAgain));
        List<ConformanceResult.Scenario> scenarios = new ArrayList<>();
        boolean everyScenario = true;
        for (Planned p : planned) {
            if (selected.test(p.name())) {
                scenarios.add(scenario(p.name(), p.check()));
            } else {
                everyScenario = false;
            }
        }
        if (!passThrough && everyScenario) {
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

    private record Planned(String name, Check check) {}

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
        Probe counting = new Probe();
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
        try (Engine engine = engine(setup(run, withConnector, counting))) {
            for (int i = 0; i < prompts.size(); i++) {
                engine.addRequest("first-" + i, prompts.get(i), 2 + i % 3);
                if (i % 5 == 4) {
                    engine.step();
                    engine.step();
                }
            }
            new StallGuard(engine).drain();
            stall.set(false);
            if (!engine.scheduler().resetPrefixCache()) {
                problem[0] = "the GPU prefix cache could not be cleared after a drained run (blocks still held)";
                return Map.of();
            }
            for (int i = 0; i < prompts.size(); i++) {
                engine.addRequest("again-" + i, prompts.get(i), 2 + i % 3);
                engine.step();
            }
            Outcome outcome = finish(engine, counting, false);
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
            java.util.function.Consumer<CountingSchedulerConnector> onCounting,
            int gpuBlocks,
            boolean tight) {
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
                    c -> {},
                    GPU_BLOCKS,
                    false);
        }

        Run withCopies(CopyFaults c) {
            return new Run(
                    async,
                    workers,
                    policy,
                    c,
                    cost,
                    workerWrapper,
                    lostStepRank,
                    hookFailuresExpected,
                    onCounting,
                    gpuBlocks,
                    tight);
        }

        Run withCost(ModelCost c) {
            return new Run(
                    async,
                    workers,
                    policy,
                    copies,
                    c,
                    workerWrapper,
                    lostStepRank,
                    hookFailuresExpected,
                    onCounting,
                    gpuBlocks,
                    tight);
        }

        Run withWorkerWrapper(UnaryOperator<WorkerConnector> w) {
            return new Run(
                    async,
                    workers,
                    policy,
                    copies,
                    cost,
                    w,
                    lostStepRank,
                    hookFailuresExpected,
                    onCounting,
                    gpuBlocks,
                    tight);
        }

        Run withLostStepOnRank(int rank) {
            return new Run(
                    async,
                    workers,
                    policy,
                    copies,
                    cost,
                    workerWrapper,
                    rank,
                    hookFailuresExpected,
                    onCounting,
                    gpuBlocks,
                    tight);
        }

        Run expectingHookFailures() {
            return new Run(
                    async,
                    workers,
                    policy,
                    copies,
                    cost,
                    workerWrapper,
                    lostStepRank,
                    true,
                    onCounting,
                    gpuBlocks,
                    tight);
        }

        Run withOnCounting(java.util.function.Consumer<CountingSchedulerConnector> c) {
            return new Run(
                    async,
                    workers,
                    policy,
                    copies,
                    cost,
                    workerWrapper,
                    lostStepRank,
                    hookFailuresExpected,
                    c,
                    gpuBlocks,
                    tight);
        }

        /** With {@code n} GPU blocks. */
        Run withGpuBlocks(int n) {
            return new Run(
                    async,
                    workers,
                    policy,
                    copies,
                    cost,
                    workerWrapper,
                    lostStepRank,
                    hookFailuresExpected,
                    onCounting,
                    n,
                    tight);
        }

        /** With the connector's tight configuration ({@link #withTightConfig}), if one was given. */
        Run withTightConfig() {
            return new Run(
                    async,
                    workers,
                    policy,
                    copies,
                    cost,
                    workerWrapper,
                    lostStepRank,
                    hookFailuresExpected,
                    onCounting,
                    gpuBlocks,
                    true);
        }
    }

    private Outcome runWorkload(Workload workload, Run run, boolean withConnector) throws Exception {
        Probe counting = new Probe();
        try (Engine engine = engine(setup(run, withConnector, counting))) {
            StallGuard guard = new StallGuard(engine);
            new WorkloadDriver(engine, workload).run(done -> guard.afterStep());
            Outcome outcome = finish(engine, counting, run.hookFailuresExpected());
            if (counting.counting != null) {
                run.onCounting().accept(counting.counting);
            }
            return outcome;
        }
    }

    private String aborts(boolean async, CopyFaults faults, ConformanceResult.Exercised[] ex) throws Exception {
        Probe counting = new Probe();
        SplittableRandom random = new SplittableRandom(11);
        Run run = Run.of(async, 2, LoadFailurePolicy.FAIL).withCopies(faults).withCost(FAST_GPU);
        try (Engine engine = engine(setup(run, true, counting))) {
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
                StallGuard guard = new StallGuard(engine);
                while (engine.hasWork()) {
                    if (random.nextInt(6) == 0) {
                        engine.abort(ids.get(random.nextInt(ids.size())));
                    }
                    guard.step();
                }
            }
            Outcome outcome = finish(engine, counting, false);
            ex[0] = ex[0].plus(outcome.exercised);
            long finished = outcome.outputs.size();
            if (finished != ids.size()) {
                return "only " + finished + " of " + ids.size() + " requests finished";
            }
            return String.join("; ", outcome.problems);
        }
    }

    private static Outcome finish(Engine engine, Probe probe, boolean hookFailuresExpected) throws Exception {
        List<String> problems = new ArrayList<>();
        CountingSchedulerConnector counting = probe.counting;
        // Bounded: a connector that reports pending work forever, or a stuck transfer, must fail
        // the scenario, naming what is stuck, not hang the caller's test.
        try {
            new StallGuard(engine).drain();
        } catch (IllegalStateException e) {
            problems.add(e.getMessage());
            return new Outcome(
                    engine.metrics().outputs(), engine.metrics().failures(), problems, exercised(engine, probe));
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
                    + " reading free blocks, " + refused.notLoadTarget() + " into blocks of no granted load, "
                    + refused.freed() + " of blocks freed before the copy ran, " + refused.queueFull()
                    + " while the copy queue was full): a connector must keep the blocks of "
                    + "its copies alive (a delayed free or GPUBlockPoolView.touch) until every worker's copy of them "
                    + "ended, failed or not, load only what it was granted, and await its copies");
        }
        if (engine.scheduler().stats().hookFailures() > 0 && !hookFailuresExpected) {
            problems.add(engine.scheduler().stats().hookFailures() + " connector hook(s) threw");
        }
        if (counting != null) {
            problems.addAll(counting.problems());
            problems.addAll(AccountCheck.problems(engine, counting));
        }
        return new Outcome(engine.metrics().outputs(), engine.metrics().failures(), problems, exercised(engine, probe));
    }

    private static ConformanceResult.Exercised exercised(Engine engine, Probe probe) {
        var stats = engine.scheduler().stats();
        var ex = engine.executor();
        CountingSchedulerConnector c = probe.counting;
        return new ConformanceResult.Exercised(
                stats.connectorHits(),
                ex.blocksCopied(CopyFaults.Direction.FROM_HOST)
                        / engine.setup().config().workers(),
                ex.blocksCopied(CopyFaults.Direction.TO_HOST)
                        / engine.setup().config().workers(),
                stats.preemptions(),
                stats.loadFailures(),
                c == null ? 0 : c.removedEventBlocks(),
                c == null ? 0 : c.blocksHeldPastEnd(),
                probe.slotReuses.get());
    }

    /** What the kit's decorators of one engine's connector recorded. */
    static final class Probe {
        CountingSchedulerConnector counting;
        final AtomicLong slotReuses = new AtomicLong();
    }

    private EngineSetup setup(Run run, boolean withConnector, Probe out) {
        SchedulerConfig scheduler = new SchedulerConfig(64, 16, 32, SchedulingPolicy.FCFS, run.async(), run.policy())
                .withConnectorTimeout(CONNECTOR_TIMEOUT);
        Optional<EngineSetup.ConnectorSides> sides = Optional.empty();
        if (withConnector) {
            EngineInfo info =
                    new EngineInfo("conformance", MODEL, BLOCK_SIZE, run.gpuBlocks(), run.workers(), run.async());
            InstantSource clock = InstantSource.system();
            ConnectorConfig own = ConnectorConfigs.of(
                    ConnectorConfigs.ENGINE_PATH, run.tight() && tightConfig != null ? tightConfig : config);
            ReportLedger ledger = new ReportLedger();
            EngineSetup.ConnectorSides wrapped = EngineFactory.sides(provider, own, info, catalog, clock)
                    .wrap(
                            s -> {
                                out.counting = new CountingSchedulerConnector(s, ledger, BLOCK_SIZE);
                                return out.counting;
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
                            rank,
                            out.slotReuses));
            sides = Optional.of(wrapped);
        }
        // The copy faults hit only the run with the connector: the baseline must be fault-free.
        EngineConfig config = EngineConfig.builder(MODEL, BLOCK_SIZE, run.gpuBlocks(), run.workers(), scheduler)
                .cost(run.cost())
                .eosRate(EOS_RATE)
                .memory(cuda == CudaSource.JCUDA ? MemorySelection.HOST : MemorySelection.CUDA)
                .build();
        return new EngineSetup(config, sides, withConnector ? run.copies() : CopyFaults.NONE, true, cuda);
    }

    /** An engine of {@code setup}; on simulated device memory, checks the engine got it. */
    private Engine engine(EngineSetup setup) {
        Engine engine = new Engine(setup);
        if (cuda != CudaSource.JCUDA && engine.memoryPlacement().kind() != MemoryKind.CUDA_DEVICE) {
            String why = engine.memoryPlacement().why();
            engine.close();
            throw new IllegalStateException("KV memory is " + why + ", not the simulated CUDA device memory asked for");
        }
        return engine;
    }

    /** One scripted run: drives the engine; the same script runs without and with the connector. */
    private interface Script {
        /**
         * Drives {@code engine} through {@code guard}.
         *
         * @param probe what the kit's decorators recorded; {@code null} in the run without the connector
         * @return a problem found on the way, or empty
         */
        String drive(Engine engine, StallGuard guard, Probe probe) throws Exception;
    }

    /** Runs {@code script} without and with the connector under {@code run}, and compares the outputs. */
    private String scripted(Run run, Script script, ConformanceResult.Exercised[] ex) throws Exception {
        Outcome without = runScript(run, script, false);
        if (!without.problems.isEmpty()) {
            return "the run without the connector failed (an engine bug): " + String.join("; ", without.problems);
        }
        Outcome with = runScript(run, script, true);
        ex[0] = ex[0].plus(with.exercised);
        return compare(without.outputs, with, false);
    }

    private Outcome runScript(Run run, Script script, boolean withConnector) throws Exception {
        Probe probe = new Probe();
        try (Engine engine = engine(setup(run, withConnector, probe))) {
            String problem;
            try {
                problem = script.drive(engine, new StallGuard(engine), withConnector ? probe : null);
            } catch (IllegalStateException e) {
                problem = e.getMessage();
            }
            Outcome outcome = finish(engine, probe, false);
            if (!problem.isEmpty()) {
                outcome.problems().addFirst(problem);
            }
            return outcome;
        }
    }

    /** Runs until nothing is left, then clears the GPU prefix cache so that repeated prompts need the connector. */
    private static String drainAndClearGpuCache(Engine engine, StallGuard guard, String when)
            throws InterruptedException {
        guard.drain();
        if (!engine.scheduler().resetPrefixCache()) {
            return "the GPU prefix cache could not be cleared " + when + " (blocks still held)";
        }
        return "";
    }

    /**
     * Waves of requests over six prefixes of three to five blocks, with the GPU prefix cache cleared
     * after each wave: every wave's prefixes come from the connector, while the wave's new blocks
     * are stored, so a tier of a few blocks evicts all the time.
     */
    private static String waves(Engine engine, StallGuard guard, long seed, int waves, int perWave)
            throws InterruptedException {
        SplittableRandom random = new SplittableRandom(seed);
        List<int[]> prefixes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            prefixes.add(tokens(random, 12 + 4 * random.nextInt(3)));
        }
        for (int w = 0; w < waves; w++) {
            for (int i = 0; i < perWave; i++) {
                int[] prompt =
                        concat(prefixes.get(random.nextInt(prefixes.size())), tokens(random, 1 + random.nextInt(9)));
                engine.addRequest("w" + w + "-" + i, prompt, 2 + random.nextInt(4));
                if (i % 3 == 2) {
                    guard.step();
                }
            }
            String problem = drainAndClearGpuCache(engine, guard, "after wave " + w);
            if (!problem.isEmpty()) {
                return problem;
            }
        }
        return "";
    }

    /**
     * Loads are delayed by 4 ms on a stream of their own while stores run on theirs (what the copy
     * API allows: order per direction only), in waves over a tier of a few blocks: a connector that
     * lets a store overwrite a slot that a queued load still reads (evicting a pinned entry, or
     * releasing pins when the load is planned rather than when it completed) loads wrong KV.
     */
    private String hostSlotsKeptForLoads(ConformanceResult.Exercised[] ex) throws Exception {
        Run run = Run.of(true, 1, LoadFailurePolicy.FAIL)
                .withCopies(new DelayedLoads())
                .withCost(FAST_GPU)
                .withTightConfig();
        return scripted(run, (engine, guard, probe) -> waves(engine, guard, 31, 8, 9), ex);
    }

    /**
     * The same blocks behind other prefixes, and the same prompt under two cache salts: a connector
     * keyed by a block's own tokens serves KV computed after another prefix (a wrong read), and one
     * that drops the salt serves one tenant's prefix to another. Both must get no external token.
     */
    private String keysNamePrefixAndSalt(ConformanceResult.Exercised[] ex) throws Exception {
        Run run = Run.of(false, 1, LoadFailurePolicy.FAIL);
        return scripted(
                run,
                (engine, guard, probe) -> {
                    SplittableRandom random = new SplittableRandom(41);
                    // 16 tokens: whole blocks of the kit (4 tokens) and of a connector storing up to 4 of them as one.
                    int[] u0 = tokens(random, 16);
                    int[] u1 = tokens(random, 16);
                    int[] u2 = tokens(random, 16);
                    int[] tail = tokens(random, 3);
                    int[] salted = tokens(random, 35);
                    Map<String, int[]> prompts = new java.util.LinkedHashMap<>();
                    prompts.put("first", concat(concat(u0, u1), concat(u2, tail)));
                    prompts.put("same-again", concat(concat(u0, u1), concat(u2, tail)));
                    prompts.put("other-prefix", concat(concat(u1, u0), concat(u2, tail)));
                    prompts.put("shifted", concat(concat(u2, u1), concat(u0, tail)));
                    for (Map.Entry<String, int[]> e : prompts.entrySet()) {
                        engine.addRequest(e.getKey(), e.getValue(), 3);
                        String p = drainAndClearGpuCache(engine, guard, "after request " + e.getKey());
                        if (!p.isEmpty()) {
                            return p;
                        }
                    }
                    String[][] salts = {{"salt-a", "tenant-a"}, {"salt-b", "tenant-b"}, {"salt-a-again", "tenant-a"}};
                    for (String[] idAndSalt : salts) {
                        engine.addRequest(
                                idAndSalt[0],
                                salted,
                                3,
                                0,
                                io.kvconnect.api.common.TransferParams.empty(),
                                Optional.of(idAndSalt[1]));
                        String p = drainAndClearGpuCache(engine, guard, "after request " + idAndSalt[0]);
                        if (!p.isEmpty()) {
                            return p;
                        }
                    }
                    if (probe == null || probe.counting == null) {
                        return "";
                    }
                    List<String> wrong = new ArrayList<>();
                    for (String id : List.of("other-prefix", "shifted", "salt-b")) {
                        int granted = probe.counting.grantedTokens(id);
                        if (granted > 0) {
                            wrong.add(id + " got " + granted);
                        }
                    }
                    return wrong.isEmpty()
                            ? ""
                            : "the connector served external tokens for prefixes it never stored: "
                                    + String.join(", ", wrong)
                                    + " (a key must name the whole prefix, parent chain and cache salt included, as "
                                    + "RequestView.blockHash does)";
                },
                ex);
    }

    /**
     * Sixteen long requests on a pool of 20 blocks preempt each other while every store waits 3 ms:
     * requests are preempted and resumed with stores queued, so a connector that keeps a block
     * table from before the preemption stores the wrong blocks. Then the GPU prefix cache is
     * cleared and each prompt comes again extended by its output (its last block partly filled),
     * so what was stored is loaded back.
     */
    private String preemptedWhileStoring(ConformanceResult.Exercised[] ex) throws Exception {
        CopyFaults slowStores = (direction, blockIds) -> {
            if (direction == CopyFaults.Direction.TO_HOST) {
                Thread.sleep(3);
            }
        };
        Run run = Run.of(false, 1, LoadFailurePolicy.FAIL)
                .withCopies(slowStores)
                .withCost(FAST_GPU)
                .withGpuBlocks(20);
        return scripted(
                run,
                (engine, guard, probe) -> {
                    SplittableRandom random = new SplittableRandom(53);
                    List<int[]> prompts = new ArrayList<>();
                    for (int i = 0; i < 16; i++) {
                        prompts.add(tokens(random, 12 + random.nextInt(12)));
                        engine.addRequest("long-" + i, prompts.get(i), 24 + random.nextInt(16));
                    }
                    String p = drainAndClearGpuCache(engine, guard, "after the long requests");
                    if (!p.isEmpty()) {
                        return p;
                    }
                    Map<String, int[]> outputs = engine.metrics().outputs();
                    for (int i = 0; i < prompts.size(); i++) {
                        int[] output = outputs.getOrDefault("long-" + i, new int[0]);
                        engine.addRequest("extended-" + i, concat(prompts.get(i), output), 3);
                        guard.step();
                    }
                    return "";
                },
                ex);
    }

    /**
     * Waves over a tier of a few blocks, then, once the run drained, {@code resetCache} must
     * succeed within a few steps (a connector that says {@code NOT_SUPPORTED} is not asked again),
     * and the connector must still serve hits: two fresh prompts of four blocks run twice, the GPU
     * prefix cache cleared between, must get external tokens the second time (the tight
     * configuration must hold at least eight of the kit's blocks). Pins or slots never released show as a
     * reset refused forever, or as a tier that can store nothing more.
     */
    private String resetsAndServesAgain(ConformanceResult.Exercised[] ex) throws Exception {
        Run run = Run.of(false, 1, LoadFailurePolicy.FAIL).withTightConfig();
        return scripted(
                run,
                (engine, guard, probe) -> {
                    String p = waves(engine, guard, 61, 5, 8);
                    if (!p.isEmpty()) {
                        return p;
                    }
                    long hitsBefore = engine.scheduler().stats().connectorHits();
                    if (probe != null && probe.counting != null) {
                        ResetResult reset = ResetResult.FAILED;
                        for (int i = 0; i < RESET_ATTEMPTS && reset == ResetResult.FAILED; i++) {
                            reset = probe.counting.resetCache();
                            if (reset == ResetResult.FAILED) {
                                guard.step();
                            }
                        }
                        if (reset == ResetResult.FAILED) {
                            return "resetCache failed " + RESET_ATTEMPTS + " times after the run drained: the "
                                    + "connector still holds something it never released (pins, slots, transfers)";
                        }
                    }
                    SplittableRandom random = new SplittableRandom(67);
                    List<int[]> fresh = new ArrayList<>();
                    // Two prompts of four blocks: they fit a tier of eight blocks together, so even a
                    // strict LRU keeps both until they come again.
                    for (int i = 0; i < 2; i++) {
                        fresh.add(tokens(random, 16 + random.nextInt(4)));
                        engine.addRequest("fresh-" + i, fresh.get(i), 2);
                        guard.step();
                    }
                    p = drainAndClearGpuCache(engine, guard, "after the fresh prompts");
                    if (!p.isEmpty()) {
                        return p;
                    }
                    long hitsFresh = engine.scheduler().stats().connectorHits();
                    for (int i = 0; i < fresh.size(); i++) {
                        engine.addRequest("fresh-again-" + i, fresh.get(i), 2);
                        guard.step();
                    }
                    guard.drain();
                    long hitsAfter = engine.scheduler().stats().connectorHits();
                    if (probe != null && hitsBefore > 0 && hitsAfter == hitsFresh) {
                        return "after the drained run (and its reset) the connector served no hit for prompts it had "
                                + "just seen computed, although it served " + hitsBefore + " tokens before: its "
                                + "storage leaked (pins or slots never released)";
                    }
                    return "";
                },
                ex);
    }

    /** {@code a} followed by {@code b}. */
    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * Loads wait 4 ms before they move a byte, on a stream of their own, so stores asked for later
     * run first: what a device with one copy engine per direction does.
     */
    private static final class DelayedLoads implements CopyFaults {
        @Override
        public void beforeCopy(Direction direction, int[] blockIds) throws Exception {
            if (direction == Direction.FROM_HOST) {
                Thread.sleep(4);
            }
        }

        @Override
        public boolean independentDirections() {
            return true;
        }
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
