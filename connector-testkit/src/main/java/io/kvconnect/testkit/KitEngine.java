package io.kvconnect.testkit;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.worker.MemoryKind;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineInvariants;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.memory.CudaSource;
import io.kvconnect.core.memory.MemorySelection;
import io.kvconnect.core.run.EngineFactory;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.RequestUpdate;
import io.kvconnect.core.sched.RequestUpdates;
import io.kvconnect.core.sched.SchedulerConfig;
import io.kvconnect.core.sched.SchedulingPolicy;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One small, verifying engine for connector tests that need more than one engine at a time, such
 * as a prefill engine and a decode engine exchanging KV through a disaggregation connector. The
 * {@link ConnectorConformance} kit runs one engine per scenario by itself; this class hands the
 * test the engine's loop instead, so the test can route requests and transfer parameters between
 * engines and inject aborts at the points it names.
 *
 * <p>The engine uses the kit's model ({@code "conformance"}: 2 layers, 2 KV heads of dim 16, FP16),
 * checks its invariants after every step and verifies every KV read. {@link #problems()} says what
 * is wrong after a drain: a request or block still held, a KV read with wrong content whose output
 * was used, a connector reference leaked, a hook that threw.
 *
 * <p>Named for the kit rather than "TestEngine", which a connector's test would also import from
 * JUnit Platform ({@code org.junit.platform.engine.TestEngine}).
 *
 * <p><b>Thread.</b> One thread drives an instance; it is not thread-safe. Two instances may be
 * driven by one thread alternately (their connectors' own threads run meanwhile).
 */
public final class KitEngine implements AutoCloseable {
    /** The kit's model. */
    public static final ModelShape MODEL = new ModelShape("conformance", 2, 2, 16, DType.FP16);

    private final Engine engine;

    /**
     * How to build a kit engine.
     *
     * @param engineId the engine id the connector sees
     * @param workers tensor-parallel workers
     * @param gpuBlocks usable GPU blocks per worker
     * @param blockSize tokens per block
     * @param asyncScheduling asynchronous scheduling
     * @param recomputeOnLoadFailure load failure policy {@code recompute} (else {@code fail})
     * @param clock the clock the connector's contexts get (tests move it to expire leases)
     * @param eosRate the model's end-of-sequence probability per sampled token (0: requests end at
     *     their length cap)
     * @param lateLoadErrorReports whether every worker's report of failed loads reaches the engine
     *     one step late (within the engine's load failure window)
     * @param simulatedDeviceMemory whether the KV caches are in CUDA device memory simulated on the
     *     host (see {@link ConnectorConformance#onSimulatedDeviceMemory()}), else host memory
     */
    public record Options(
            String engineId,
            int workers,
            int gpuBlocks,
            int blockSize,
            boolean asyncScheduling,
            boolean recomputeOnLoadFailure,
            InstantSource clock,
            double eosRate,
            boolean lateLoadErrorReports,
            boolean simulatedDeviceMemory) {
        /** Checks. */
        public Options {
            Objects.requireNonNull(engineId, "engineId");
            Objects.requireNonNull(clock, "clock");
            if (!(eosRate >= 0 && eosRate <= 1)) {
                throw new IllegalArgumentException("eosRate must be in [0, 1], got " + eosRate);
            }
        }

        /** Options whose requests end at their length cap, failures reported on time. */
        public Options(
                String engineId,
                int workers,
                int gpuBlocks,
                int blockSize,
                boolean asyncScheduling,
                boolean recomputeOnLoadFailure,
                InstantSource clock) {
            this(
                    engineId,
                    workers,
                    gpuBlocks,
                    blockSize,
                    asyncScheduling,
                    recomputeOnLoadFailure,
                    clock,
                    0,
                    false,
                    false);
        }

        /** A copy with the model's end-of-sequence rate. */
        public Options withEosRate(double rate) {
            return new Options(
                    engineId,
                    workers,
                    gpuBlocks,
                    blockSize,
                    asyncScheduling,
                    recomputeOnLoadFailure,
                    clock,
                    rate,
                    lateLoadErrorReports,
                    simulatedDeviceMemory);
        }

        /** A copy whose workers' reports of failed loads reach the engine one step late, or on time. */
        public Options withLateLoadErrorReports(boolean late) {
            return new Options(
                    engineId,
                    workers,
                    gpuBlocks,
                    blockSize,
                    asyncScheduling,
                    recomputeOnLoadFailure,
                    clock,
                    eosRate,
                    late,
                    simulatedDeviceMemory);
        }

        /** A copy whose KV caches are in CUDA device memory simulated on the host, or in host memory. */
        public Options withSimulatedDeviceMemory(boolean simulated) {
            return new Options(
                    engineId,
                    workers,
                    gpuBlocks,
                    blockSize,
                    asyncScheduling,
                    recomputeOnLoadFailure,
                    clock,
                    eosRate,
                    lateLoadErrorReports,
                    simulated);
        }

        /** One worker, 64 blocks of 4 tokens, synchronous scheduling, policy {@code recompute}, system clock. */
        public static Options defaults(String engineId) {
            return new Options(engineId, 1, 64, 4, false, true, InstantSource.system());
        }

        /** A copy with {@code n} workers. */
        public Options withWorkers(int n) {
            return new Options(
                    engineId,
                    n,
                    gpuBlocks,
                    blockSize,
                    asyncScheduling,
                    recomputeOnLoadFailure,
                    clock,
                    eosRate,
                    lateLoadErrorReports,
                    simulatedDeviceMemory);
        }

        /** A copy with {@code n} GPU blocks. */
        public Options withGpuBlocks(int n) {
            return new Options(
                    engineId,
                    workers,
                    n,
                    blockSize,
                    asyncScheduling,
                    recomputeOnLoadFailure,
                    clock,
                    eosRate,
                    lateLoadErrorReports,
                    simulatedDeviceMemory);
        }

        /** A copy with {@code n} tokens per block. */
        public Options withBlockSize(int n) {
            return new Options(
                    engineId,
                    workers,
                    gpuBlocks,
                    n,
                    asyncScheduling,
                    recomputeOnLoadFailure,
                    clock,
                    eosRate,
                    lateLoadErrorReports,
                    simulatedDeviceMemory);
        }

        /** A copy with the scheduling mode. */
        public Options withAsyncScheduling(boolean async) {
            return new Options(
                    engineId,
                    workers,
                    gpuBlocks,
                    blockSize,
                    async,
                    recomputeOnLoadFailure,
                    clock,
                    eosRate,
                    lateLoadErrorReports,
                    simulatedDeviceMemory);
        }

        /** A copy with the load failure policy ({@code true}: recompute, {@code false}: fail). */
        public Options withRecomputeOnLoadFailure(boolean recompute) {
            return new Options(
                    engineId,
                    workers,
                    gpuBlocks,
                    blockSize,
                    asyncScheduling,
                    recompute,
                    clock,
                    eosRate,
                    lateLoadErrorReports,
                    simulatedDeviceMemory);
        }

        /** A copy with another clock. */
        public Options withClock(InstantSource c) {
            return new Options(
                    engineId,
                    workers,
                    gpuBlocks,
                    blockSize,
                    asyncScheduling,
                    recomputeOnLoadFailure,
                    c,
                    eosRate,
                    lateLoadErrorReports,
                    simulatedDeviceMemory);
        }
    }

    /**
     * A request that finished in a step.
     *
     * @param requestId the request
     * @param status the finished status, such as {@code FINISHED_STOPPED}
     * @param reason why it failed, or empty
     * @param transferParams the connector's transfer parameters for the response
     * @param outputTokens every output token
     */
    public record Finished(
            String requestId, String status, String reason, TransferParams transferParams, int[] outputTokens) {}

    private KitEngine(Engine engine) {
        this.engine = engine;
    }

    /**
     * Builds an engine, with the connector of {@code provider} created with {@code config}, or
     * without a connector when {@code provider} is empty (the baseline).
     *
     * @throws io.kvconnect.api.common.ConfigException if the provider refuses the configuration
     */
    public static KitEngine create(Optional<ConnectorProvider> provider, Map<String, Object> config, Options o) {
        return create(provider, List.of(), config, o);
    }

    /**
     * As {@link #create(Optional, Map, Options)}, with {@code others} in the catalog the connector
     * gets ({@code ConnectorContext.catalog()}) beside {@code provider}: the children of a
     * composite under test, as {@link ConnectorConformance#withProviders} and {@link
     * Soak#withProviders} add them. Without a provider ({@code provider} empty) {@code others} are
     * ignored.
     *
     * @throws IllegalArgumentException if two providers ({@code provider} included) share a name
     * @throws io.kvconnect.api.common.ConfigException if a provider refuses the configuration
     */
    public static KitEngine create(
            Optional<ConnectorProvider> provider,
            List<? extends ConnectorProvider> others,
            Map<String, Object> config,
            Options o) {
        Objects.requireNonNull(others, "others");
        SchedulerConfig scheduler = new SchedulerConfig(
                64,
                16,
                32,
                SchedulingPolicy.FCFS,
                o.asyncScheduling(),
                o.recomputeOnLoadFailure() ? LoadFailurePolicy.RECOMPUTE : LoadFailurePolicy.FAIL);
        Optional<EngineSetup.ConnectorSides> sides = provider.map(p -> {
            EngineInfo info =
                    new EngineInfo(o.engineId(), MODEL, o.blockSize(), o.gpuBlocks(), o.workers(), o.asyncScheduling());
            ConnectorCatalog catalog = KitCatalog.of(p, others);
            ConnectorConfig own = ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, config);
            EngineSetup.ConnectorSides created = EngineFactory.sides(p, own, info, catalog, o.clock());
            if (!o.lateLoadErrorReports()) {
                return created;
            }
            FaultInjector late = new FaultInjector(new FaultPlan(0, 0, 0, 0, 1), 1);
            return created.wrap(s -> s, w -> new FaultyWorkerConnector(w, late));
        });
        EngineConfig engineConfig = EngineConfig.builder(MODEL, o.blockSize(), o.gpuBlocks(), o.workers(), scheduler)
                .eosRate(o.eosRate())
                .memory(o.simulatedDeviceMemory() ? MemorySelection.CUDA : MemorySelection.HOST)
                .build();
        CudaSource cuda = o.simulatedDeviceMemory() ? CudaSource.hostFake(1) : CudaSource.JCUDA;
        Engine engine = new Engine(new EngineSetup(engineConfig, sides, CopyFaults.NONE, true, cuda));
        if (o.simulatedDeviceMemory() && engine.memoryPlacement().kind() != MemoryKind.CUDA_DEVICE) {
            engine.close();
            throw new IllegalStateException(
                    "KV memory is " + engine.memoryPlacement().why() + ", not device memory");
        }
        return new KitEngine(engine);
    }

    /** Adds a request with transfer parameters (empty for none). */
    public void addRequest(String id, int[] prompt, int maxTokens, TransferParams params) {
        engine.addRequest(id, prompt, maxTokens, 0, params, Optional.empty());
    }

    /** Aborts a request (ignored if unknown or finished). */
    public void abort(String id) {
        engine.abort(id);
    }

    /** Whether a step would do anything (requests, transfers, the connector's pending work). */
    public boolean hasWork() {
        return engine.hasWork();
    }

    /**
     * Runs one step; returns the requests that finished in it.
     *
     * @throws IllegalStateException if an engine invariant is broken after the step
     */
    public List<Finished> step() throws InterruptedException {
        List<Finished> done = new ArrayList<>();
        RequestUpdates updates = engine.step();
        for (int i = 0; i < updates.size(); i++) {
            if (updates.isFinished(i)) {
                RequestUpdate.Finished f = updates.finished(i);
                done.add(new Finished(
                        f.requestId(),
                        f.status().name(),
                        f.reason(),
                        f.transferParams(),
                        f.outputTokens().clone()));
            }
        }
        return done;
    }

    /** KV reads with wrong content whose output was used, so far. */
    public long kvMismatches() {
        return engine.metrics().mismatches();
    }

    /** The connector's stats summed over the engine's lifetime so far (empty map if none). */
    public Map<String, Number> connectorStats() {
        return engine.metrics().connectorStats().map(ConnectorStats::summary).orElse(Map.of());
    }

    /**
     * The engine's scheduler counters so far: {@code preemptions}, {@code prefix_hit_tokens},
     * {@code connector_hit_tokens}, {@code connector_async_loads}, {@code load_failures}, {@code
     * requests_recomputed}, {@code requests_failed}, {@code requests_aborted}, and {@code
     * invalid_blocks_ignored}: blocks the connector reported invalid that no load the report could
     * still be about wrote (a report too late, or of blocks it never loaded), which blamed nobody.
     * A connector that reports its failed loads in time keeps it at 0.
     */
    public Map<String, Long> schedulerCounts() {
        var s = engine.scheduler().stats();
        var m = new java.util.LinkedHashMap<String, Long>();
        m.put("preemptions", s.preemptions());
        m.put("prefix_hit_tokens", s.prefixHits());
        m.put("connector_hit_tokens", s.connectorHits());
        m.put("connector_async_loads", s.connectorAsyncLoads());
        m.put("load_failures", s.loadFailures());
        m.put("requests_recomputed", s.requestsRecomputed());
        m.put("requests_failed", s.requestsFailed());
        m.put("requests_aborted", s.requestsAborted());
        m.put("invalid_blocks_ignored", s.ignoredInvalidBlocks());
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The engine's modelled time in seconds. */
    public double now() {
        return engine.now();
    }

    /**
     * What is wrong with the engine now; call after it has no more work. Closes the engine to
     * check for leaked connector references. Empty when all is well.
     */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (engine.hasWork()) {
            problems.add("the engine still has work (a stuck request or transfer, or pending work that never ends)");
        } else {
            try {
                EngineInvariants.checkDrained(engine.scheduler());
            } catch (IllegalStateException e) {
                problems.add(e.getMessage());
            }
        }
        if (engine.metrics().mismatches() > 0) {
            problems.add(engine.metrics().mismatches() + " KV read(s) had wrong content and their output was used");
        }
        engine.close();
        if (engine.scheduler().stats().leakedConnectorReferences() > 0) {
            problems.add("the connector still held "
                    + engine.scheduler().stats().leakedConnectorReferences() + " GPU block reference(s) at shutdown");
        }
        if (engine.scheduler().stats().hookFailures() > 0) {
            problems.add(engine.scheduler().stats().hookFailures() + " connector hook(s) threw");
        }
        return problems;
    }

    /** Shuts the connector and the workers down. Idempotent. */
    @Override
    public void close() {
        engine.close();
    }
}
