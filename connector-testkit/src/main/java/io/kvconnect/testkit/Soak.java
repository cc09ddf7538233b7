package io.kvconnect.testkit;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineInvariants;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.run.EngineFactory;
import io.kvconnect.core.sched.ConnectorErrorPolicy;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.RequestUpdate;
import io.kvconnect.core.sched.RequestUpdates;
import io.kvconnect.core.sched.SchedulerConfig;
import io.kvconnect.core.sched.SchedulingPolicy;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.LongConsumer;

/**
 * A soak: many rounds, each a fresh small engine with the connector, driven by a randomized stream
 * of requests that share prefixes (some later ones repeat an earlier request's prompt and its
 * output, as the next turn of a conversation does, its last block partly filled), with aborts at random points, a GPU pool small enough to force
 * preemptions, and faults at the plan's rates. Rounds alternate synchronous and asynchronous
 * scheduling, one and two workers, and the load failure policies {@code recompute} and {@code
 * fail}; when hooks are made to throw, the engine runs with {@code connector_errors: disable}, so
 * a throwing connector is shut down and the round goes on without it.
 *
 * <p>The soak's engine is its own, small and fixed (model {@link #MODEL_DESCRIPTION}, block size
 * {@value #BLOCK_SIZE}, {@value #GPU_BLOCKS} GPU blocks, 1 or 2 workers by round, the model's
 * end-of-sequence rate {@value #EOS_RATE} so requests also stop early): of a configuration file it
 * uses only the connector. With {@code late_errors} in the plan, workers' reports of failed loads
 * are held back a step (within the engine's load failure window).
 *
 * <p>After every step the engine's invariants are checked; after each round nothing may be held
 * and no request left. Every request that finished normally must have produced exactly the output
 * of a fault-free run without the connector, and every aborted or failed one a prefix of it (the
 * engine never emits a token computed from wrong KV). A KV read with wrong content whose output
 * was used is a problem; an exception out of the engine is a crash.
 *
 * <pre>{@code
 * Soak.of(new MyProvider(), Map.of("capacity", "8MiB"))
 *         .faults(FaultPlan.parse("copy_fail=0.02,copy_stall=0.02"))
 *         .rounds(20).run().assertPassed();
 * }</pre>
 *
 * <p>Not thread-safe; {@link #run()} blocks.
 */
public final class Soak {
    private static final ModelShape MODEL = new ModelShape("soak", 2, 2, 16, DType.FP16);
    private static final int BLOCK_SIZE = 4;
    private static final int GPU_BLOCKS = 48;
    private static final double EOS_RATE = 0.1;
    /** What {@link #MODEL} is, in words. */
    public static final String MODEL_DESCRIPTION = "2 layers, 2 KV heads of dim 16, FP16";
    /**
     * What of an engine configuration the soak uses, in words: only the connector; the rest is the
     * soak's own.
     */
    public static final String USES = "the connector and its configuration; its own engine otherwise (model "
            + MODEL_DESCRIPTION + ", block size " + BLOCK_SIZE + ", " + GPU_BLOCKS + " GPU blocks, 1 or 2 workers "
            + "and sync or async scheduling by round, load failure policy recompute or fail by round), so the "
            + "configuration's model, workers, gpu_blocks, scheduling and policies are not used";

    private static final int MAX_STEPS_PER_ROUND = 200_000;
    private static final int MAX_PROBLEMS = 50;

    private final ConnectorProvider provider;
    private final ConnectorConfig config;
    private ConnectorCatalog catalog;
    private FaultPlan plan = FaultPlan.NONE;
    private long seed = 1;
    private int rounds = 10;
    private Duration duration;
    private int requestsPerRound = 24;

    private Soak(ConnectorProvider provider, ConnectorConfig config, ConnectorCatalog catalog) {
        this.provider = Objects.requireNonNull(provider, "provider");
        this.config = Objects.requireNonNull(config, "config");
        this.catalog = Objects.requireNonNull(catalog, "catalog");
    }

    /** A soak of {@code provider} created with {@code config}; the catalog holds only this provider. */
    public static Soak of(ConnectorProvider provider, Map<String, Object> config) {
        return new Soak(
                provider,
                ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, config),
                KitCatalog.of(provider, List.of()));
    }

    /** A soak of {@code provider} created with {@code config}, finding other connectors in {@code catalog}. */
    public static Soak of(ConnectorProvider provider, ConnectorConfig config, ConnectorCatalog catalog) {
        return new Soak(provider, config, catalog);
    }

    /**
     * Adds {@code providers} to the catalog the connector is given, so a composite connector finds
     * its children (as {@link ConnectorConformance#withProviders}).
     *
     * @throws IllegalArgumentException if two providers (the one under test included) share a name
     */
    public Soak withProviders(List<? extends ConnectorProvider> providers) {
        this.catalog = KitCatalog.of(provider, providers);
        return this;
    }

    /** The faults to inject (default none). */
    public Soak faults(FaultPlan faults) {
        this.plan = Objects.requireNonNull(faults, "faults");
        return this;
    }

    /** The seed of the request streams and of the faults (default 1). */
    public Soak seed(long s) {
        this.seed = s;
        return this;
    }

    /** Runs this many rounds (default 10); ignored when a duration is set. */
    public Soak rounds(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("rounds must be >= 1, got " + n);
        }
        this.rounds = n;
        this.duration = null;
        return this;
    }

    /** Runs rounds until {@code d} has passed (at least one round). */
    public Soak duration(Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("duration must be positive, got " + d);
        }
        this.duration = d;
        return this;
    }

    /** Requests per round (default 24). */
    public Soak requestsPerRound(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("requests per round must be >= 1, got " + n);
        }
        this.requestsPerRound = n;
        return this;
    }

    /** Runs the soak; never throws for what it finds (see {@link SoakReport#passed()}). */
    public SoakReport run() throws InterruptedException {
        return run(r -> {});
    }

    /**
     * Runs the soak.
     *
     * @param progress told the number of rounds done after each round
     */
    public SoakReport run(LongConsumer progress) throws InterruptedException {
        Tally t = new Tally();
        FaultInjector injector = new FaultInjector(plan, seed ^ 0x5DEECE66DL);
        long deadline = duration == null ? 0 : System.nanoTime() + duration.toNanos();
        int round = 0;
        while (duration == null ? round < rounds : round == 0 || System.nanoTime() - deadline < 0) {
            int problemsBefore = t.problems.size();
            Map<String, Long> faultsBefore = injector.injected();
            runRound(round, injector, t);
            annotate(t, problemsBefore, faultsBefore, injector.injected());
            round++;
            progress.accept(round);
        }
        return new SoakReport(
                provider.name(),
                plan,
                round,
                t.requests,
                t.ok,
                t.aborted,
                t.failed,
                t.recomputed,
                injector.injected(),
                t.hookFailures,
                t.disabledRounds,
                t.reclaimed,
                t.discardedWrongReads,
                t.leakRounds,
                t.crashes,
                t.problems,
                t.hitTokens,
                t.blocksLoaded,
                t.blocksStored);
    }

    /** Appends the faults injected in a round to the problems it found, to help reproduce them. */
    private static void annotate(Tally t, int from, Map<String, Long> before, Map<String, Long> after) {
        if (t.problems.size() == from) {
            return;
        }
        Map<String, Long> round = new TreeMap<>();
        after.forEach((kind, n) -> {
            long d = n - before.getOrDefault(kind, 0L);
            if (d > 0) {
                round.put(kind, d);
            }
        });
        for (int i = from; i < t.problems.size(); i++) {
            t.problems.set(i, t.problems.get(i) + " [faults injected in this round: " + round + "]");
        }
    }

    /** Counts across rounds. */
    private static final class Tally {
        long requests;
        long ok;
        long aborted;
        long failed;
        long recomputed;
        long hookFailures;
        int disabledRounds;
        long reclaimed;
        long discardedWrongReads;
        long hitTokens;
        long blocksLoaded;
        long blocksStored;
        int leakRounds;
        int crashes;
        final List<String> problems = new ArrayList<>();

        void problem(String p) {
            if (problems.size() < MAX_PROBLEMS) {
                problems.add(p);
            }
        }
    }

    /** One request of a round's stream. */
    private record Req(String id, int[] prompt, int maxTokens, int wave) {}

    private void runRound(int round, FaultInjector injector, Tally t) throws InterruptedException {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + round);
        boolean async = round % 2 == 1;
        int workers = 1 + (round / 2) % 2;
        LoadFailurePolicy policy = (round / 4) % 2 == 0 ? LoadFailurePolicy.RECOMPUTE : LoadFailurePolicy.FAIL;
        String mode = "round " + round + " (" + (async ? "async" : "sync") + ", " + workers + " worker(s), "
                + policy.name().toLowerCase(Locale.ROOT) + ")";
        Map<Integer, Extension> extensions = new HashMap<>();
        List<Req> stream = stream(random, round, extensions);
        t.requests += stream.size();
        Map<String, int[]> reference;
        try {
            // Outputs depend on the prompt alone, so the requests that extend an earlier prompt plus
            // its output are built from the reference outputs of the others, then run themselves.
            List<Req> bases = new ArrayList<>();
            for (int i = 0; i < stream.size(); i++) {
                if (!extensions.containsKey(i)) {
                    bases.add(stream.get(i));
                }
            }
            reference = new HashMap<>(reference(bases, async, workers));
            List<Req> extended = new ArrayList<>();
            for (Map.Entry<Integer, Extension> e : extensions.entrySet()) {
                Req base = stream.get(e.getValue().base());
                Req placeholder = stream.get(e.getKey());
                int[] prompt = ConnectorConformance.concat(
                        ConnectorConformance.concat(base.prompt(), reference.get(base.id())),
                        e.getValue().own());
                Req r = new Req(placeholder.id(), prompt, placeholder.maxTokens(), placeholder.wave());
                stream.set(e.getKey(), r);
                extended.add(r);
            }
            if (!extended.isEmpty()) {
                reference.putAll(reference(extended, async, workers));
            }
        } catch (RuntimeException e) {
            t.crashes++;
            t.problem(mode + ": the fault-free run without the connector crashed (an engine bug): " + e);
            return;
        }
        Engine engine;
        try {
            engine = new Engine(setup(async, workers, policy, injector));
        } catch (RuntimeException e) {
            t.crashes++;
            t.problem(mode + ": the engine did not start: " + e);
            return;
        }
        try (engine) {
            List<String> live = new ArrayList<>();
            Map<String, RequestStatus> statuses = new HashMap<>();
            int nextWave = 0;
            int maxWave = stream.getLast().wave();
            long steps = 0;
            while (nextWave <= maxWave || engine.hasWork()) {
                if (nextWave <= maxWave && (steps % 6 == 0 || !engine.hasWork())) {
                    for (Req r : stream) {
                        if (r.wave() == nextWave) {
                            engine.addRequest(r.id(), r.prompt(), r.maxTokens());
                            live.add(r.id());
                        }
                    }
                    nextWave++;
                }
                if (!live.isEmpty() && random.nextInt(10) == 0) {
                    engine.abort(live.get(random.nextInt(live.size())));
                }
                RequestUpdates updates = engine.step();
                for (int i = 0; i < updates.size(); i++) {
                    if (updates.isFinished(i)) {
                        RequestUpdate.Finished f = updates.finished(i);
                        live.remove(f.requestId());
                        statuses.put(f.requestId(), f.status());
                    }
                }
                if (++steps > MAX_STEPS_PER_ROUND) {
                    t.problem(mode + ": still busy after " + MAX_STEPS_PER_ROUND + " steps (a stuck request or "
                            + "transfer); live requests " + live);
                    t.leakRounds++;
                    return;
                }
            }
            try {
                EngineInvariants.checkDrained(engine.scheduler());
            } catch (IllegalStateException e) {
                t.leakRounds++;
                t.problem(mode + ": " + e.getMessage());
            }
            engine.close();
            tallyRound(mode, engine, stream, reference, statuses, t);
        } catch (RuntimeException | Error e) {
            t.crashes++;
            t.problem(mode + ": the engine threw " + e);
        }
    }

    private void tallyRound(
            String mode,
            Engine engine,
            List<Req> stream,
            Map<String, int[]> reference,
            Map<String, RequestStatus> statuses,
            Tally t) {
        var stats = engine.scheduler().stats();
        t.recomputed += stats.requestsRecomputed();
        t.hookFailures += stats.hookFailures();
        if (stats.connectorDisabled()) {
            t.disabledRounds++;
        }
        t.reclaimed += stats.leakedConnectorReferences();
        if (stats.leakedConnectorReferences() > 0 && plan.hookThrowRate() == 0) {
            t.problem(mode + ": the connector still held " + stats.leakedConnectorReferences()
                    + " block reference(s) at shutdown");
        }
        if (stats.hookFailures() > 0 && plan.hookThrowRate() == 0) {
            t.problem(mode + ": " + stats.hookFailures() + " connector hook(s) threw without an injected fault");
        }
        var metrics = engine.metrics();
        t.discardedWrongReads += metrics.discardedWrongReads();
        t.hitTokens += stats.connectorHits();
        t.blocksLoaded += engine.executor().blocksCopied(CopyFaults.Direction.FROM_HOST)
                / engine.setup().config().workers();
        t.blocksStored += engine.executor().blocksCopied(CopyFaults.Direction.TO_HOST)
                / engine.setup().config().workers();
        if (metrics.mismatches() > 0) {
            t.problem(mode + ": " + metrics.mismatches() + " KV read(s) had wrong content and their output was used");
        }
        Map<String, int[]> outputs = metrics.outputs();
        Map<String, String> failures = metrics.failures();
        for (Req r : stream) {
            int[] got = outputs.get(r.id());
            int[] want = reference.get(r.id());
            if (got == null) {
                t.leakRounds++;
                t.problem(mode + ": request " + r.id() + " never finished");
                continue;
            }
            RequestStatus status = statuses.get(r.id());
            String reason = failures.getOrDefault(r.id(), "");
            if (status != RequestStatus.FINISHED_ABORTED && status != RequestStatus.FINISHED_ERROR) {
                t.ok++;
                if (!Arrays.equals(got, want)) {
                    t.problem(mode + ": request " + r.id() + " produced " + Arrays.toString(got) + " instead of "
                            + Arrays.toString(want));
                }
            } else {
                if (status == RequestStatus.FINISHED_ABORTED) {
                    t.aborted++;
                } else {
                    t.failed++;
                }
                if (got.length > want.length || !Arrays.equals(got, Arrays.copyOf(want, got.length))) {
                    t.problem(mode + ": request " + r.id() + " (" + reason + ") emitted " + Arrays.toString(got)
                            + ", not a prefix of " + Arrays.toString(want));
                }
            }
        }
    }

    /**
     * A request that repeats request {@code base}'s prompt and its output, then adds {@code own}:
     * the next turn of a conversation, whose prefix ends in decoded tokens and a partly filled block.
     */
    private record Extension(int base, int[] own) {}

    /**
     * Waves of requests over a few shared prefixes; later waves often extend earlier prompts, and
     * about one request in four extends an earlier request's prompt plus its output ({@code
     * extensions}, by index: its prompt here is a placeholder the caller replaces).
     */
    private List<Req> stream(SplittableRandom random, int round, Map<Integer, Extension> extensions) {
        List<int[]> prefixes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            prefixes.add(ConnectorConformance.tokens(random, 8 + random.nextInt(40)));
        }
        List<Req> out = new ArrayList<>();
        for (int i = 0; i < requestsPerRound; i++) {
            int maxTokens = 2 + random.nextInt(12);
            if (i >= 12 && random.nextInt(3) == 0) {
                // A request three waves earlier or more (most have finished by then, their last
                // blocks stored), and no extension itself, so prompts stay short.
                int base = random.nextInt(i - 11);
                if (!extensions.containsKey(base)) {
                    extensions.put(i, new Extension(base, ConnectorConformance.tokens(random, 1 + random.nextInt(8))));
                    out.add(new Req("r" + round + "-" + i, out.get(base).prompt(), maxTokens, i / 4));
                    continue;
                }
            }
            int[] base = i > 2 && random.nextInt(3) == 0
                    ? out.get(random.nextInt(out.size())).prompt()
                    : prefixes.get(random.nextInt(prefixes.size()));
            int[] own = ConnectorConformance.tokens(random, 1 + random.nextInt(24));
            int[] prompt = Arrays.copyOf(base, base.length + own.length);
            System.arraycopy(own, 0, prompt, base.length, own.length);
            out.add(new Req("r" + round + "-" + i, prompt, maxTokens, i / 4));
        }
        return out;
    }

    /** The outputs of a fault-free run without the connector. */
    private Map<String, int[]> reference(List<Req> stream, boolean async, int workers) throws InterruptedException {
        try (Engine engine = new Engine(setupWithout(async, workers))) {
            for (Req r : stream) {
                engine.addRequest(r.id(), r.prompt(), r.maxTokens());
            }
            engine.drain();
            Map<String, int[]> out = new HashMap<>(engine.metrics().outputs());
            if (out.size() != stream.size() || !engine.metrics().failures().isEmpty()) {
                throw new IllegalStateException("the fault-free run finished " + out.size() + " of " + stream.size()
                        + " requests; failures " + engine.metrics().failures());
            }
            return out;
        }
    }

    private EngineSetup setupWithout(boolean async, int workers) {
        // A pool that holds every request at once: the reference must not depend on preemption.
        SchedulerConfig scheduler =
                new SchedulerConfig(64, 16, 32, SchedulingPolicy.FCFS, async, LoadFailurePolicy.FAIL);
        return EngineSetup.of(EngineConfig.builder(MODEL, BLOCK_SIZE, 4096, workers, scheduler)
                .eosRate(EOS_RATE)
                .build());
    }

    private EngineSetup setup(boolean async, int workers, LoadFailurePolicy policy, FaultInjector injector) {
        ConnectorErrorPolicy errors =
                plan.hookThrowRate() > 0 ? ConnectorErrorPolicy.DISABLE : ConnectorErrorPolicy.FAIL_REQUESTS;
        SchedulerConfig scheduler = new SchedulerConfig(64, 16, 32, SchedulingPolicy.FCFS, async, policy, errors);
        EngineInfo info = new EngineInfo("soak", MODEL, BLOCK_SIZE, GPU_BLOCKS, workers, async);
        InstantSource clock = InstantSource.system();
        Optional<EngineSetup.ConnectorSides> sides = Optional.of(EngineFactory.sides(
                        provider, config, info, catalog, clock)
                .wrap(s -> new FaultySchedulerConnector(s, injector), w -> new FaultyWorkerConnector(w, injector)));
        CopyFaults copies = plan.copyFailRate() > 0 || plan.copyStallRate() > 0 ? injector : CopyFaults.NONE;
        EngineConfig config = EngineConfig.builder(MODEL, BLOCK_SIZE, GPU_BLOCKS, workers, scheduler)
                .eosRate(EOS_RATE)
                .build();
        return new EngineSetup(config, sides, copies, true);
    }
}
