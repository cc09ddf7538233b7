package io.kvconnect.bench;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.RequestUpdates;
import io.kvconnect.core.sched.SampledTokens;
import io.kvconnect.core.sched.ScheduledWork;
import io.kvconnect.core.sched.Scheduler;
import io.kvconnect.core.sched.SchedulerConfig;
import io.kvconnect.core.sched.SchedulerOutput;
import io.kvconnect.core.sched.SchedulingPolicy;
import io.kvconnect.core.sched.StepResult;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One engine step of the scheduler in steady-state decode: {@code schedule()} then {@code
 * update()} with {@code requests} running requests, each computing exactly one token, without a
 * connector (the baseline), with a no-op connector (the engine's own cost of calling one) and with
 * the offload connector's scheduler side (what its hooks add per step).
 *
 * <p><b>Steady state with bounded memory.</b> Every request has the same 512-token prompt (a shared
 * system prompt: 32 blocks of 16 tokens) plus one token of its own, and lives for {@link #LIFETIME}
 * output tokens ({@code lifetime}, default {@value #LIFETIME}). When one finishes it is replaced by a new one in the same call; the new request
 * finds the shared 512 tokens in the prefix cache and computes only its own last prompt token, so
 * every measured step is exactly {@code requests} one-token entries and the running count stays
 * {@code requests}. The initial requests' lifetimes are staggered, so about {@code requests /
 * LIFETIME} requests are replaced per step. Requests that never finish (a huge {@code maxTokens})
 * would make contexts, block hashes, the prefix cache and the pool grow without bound during a run
 * (tens of thousands of tokens per request per second), so the measurement would drift with the
 * garbage collector's live set; bounded lifetimes keep the heap flat. By default ({@link #phases}
 * {@code spread}) the requests are also spread over the 16 offsets within a block, so that about
 * {@code requests / 16} of them fill a block in each step, as requests arriving at random times
 * do; staggered by multiples of 16 alone, all of them filled a block in the same step, one step in
 * 16 ({@code phases=aligned}, kept to compare with measurements made that way).
 *
 * <p>A step includes what the engine thread does per step in production: the arrivals (hashing a
 * new request's prompt blocks, amortized over the lifetime), scheduling, the connector hooks, the
 * update and the outcome it returns (with the step's KV events when {@code kvEvents=on}; by default
 * the pool only counts them, as in an engine that publishes none). The workers are not part of it:
 * {@link StepResult} carries one sampled token per request and no connector reports.
 *
 * <p><b>Pool size.</b> By default ({@code poolBlocks=0}) the pool is sized for every running request
 * at its longest. An explicit {@code poolBlocks} (with a {@code lifetime} short enough that the
 * requests fit) measures the same workload over pools of different sizes: the step must not grow
 * with the pool.
 *
 * <p><b>The offload connector.</b> Its scheduler side is created through discovery with a 1 GiB tier
 * and {@code store_threshold} at its maximum, so it plans no store: no worker runs in this
 * benchmark to report a store finished, and stores never reported would hold their GPU blocks
 * until the engine's reference cap stops every further store. What it measures is the hooks the
 * scheduler calls every step (the metadata built from every scheduled request, the lookups of new
 * requests, the output of every step), not the copies.
 *
 * <p>Everything is set up once per trial ({@link Level#Trial}), so {@code -prof gc}'s B/op is the
 * step's own allocation. The teardown fails the benchmark if a step was not pure decode or if a
 * request was preempted (the pool is sized so that it cannot happen).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// A fixed heap keeps heap resizing out of the measurement. The fork also inherits the launching
// JVM's options (scripts/run-benchmarks.sh passes --sun-misc-unsafe-memory-access=allow: JMH 1.37
// calls sun.misc.Unsafe, which JDK 25 warns about).
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class SchedulerStepBenchmark {
    /** Tokens per block. */
    static final int BLOCK_SIZE = 16;
    /** The shared prompt prefix, in tokens (32 full blocks). */
    static final int SHARED_PROMPT_TOKENS = 512;
    /** Output tokens of one request. */
    static final int LIFETIME = 16_384;
    /** The token every step samples. */
    private static final int SAMPLED_TOKEN = 42;

    /** Requests running in every step. */
    @Param({"32", "128", "256"})
    public int requests;

    /**
     * {@code none}: no connector (the baseline); {@code noop}: the counting no-op connector;
     * {@code offload}: the offload connector's scheduler side (see the class comment).
     */
    @Param({"none", "noop", "offload"})
    public String connector;

    /** Output tokens of one request. */
    @Param({"" + LIFETIME})
    public int lifetime;

    /** Blocks in the GPU pool; 0: sized for every running request at its longest. */
    @Param({"0"})
    public int poolBlocks;

    /**
     * Whether the GPU pool records KV events: {@code off} as in an engine without {@code kv_events}
     * (the default, where the pool only counts them), {@code on} as in one that publishes them.
     */
    @Param({"off"})
    public String kvEvents;

    /**
     * Where in its current block each request is: {@code spread} (the default) gives the initial
     * requests' first lifetimes an extra {@code i % 16} tokens, so that their replacements start at
     * every offset within a block and about {@code requests / 16} blocks fill in every step, as
     * requests that arrive at random times do; {@code aligned} gives every request the same offset,
     * so that all requests fill a block in the same step, one step in 16, and no block fills in
     * the other 15. The work per 16 steps is the same; what differs is how it is spread over them.
     */
    @Param({"spread"})
    public String phases;

    private Scheduler scheduler;
    private NoOpSchedulerConnector noop;
    private int[] prompt;
    /**
     * The workers' sampled tokens by work position, refilled for each step. Reusing the array is
     * safe: the scheduler reads it only inside the {@code update} call that applies it.
     */
    private int[] sampled = new int[0];

    private long nextId;
    /** Requests that finished (and were replaced) in the last step. */
    private int lastFinishes;

    private long measuredSteps;
    private long impureSteps;

    @Setup(Level.Trial)
    public void setUp() {
        int maxBlocksPerRequest = (SHARED_PROMPT_TOKENS + 1 + lifetime + BLOCK_SIZE - 1) / BLOCK_SIZE;
        // Every running request at its longest, plus the null block and some slack: no preemption.
        int blocks = poolBlocks > 0 ? poolBlocks : requests * (maxBlocksPerRequest + 1) + 64;
        boolean recordEvents =
                switch (kvEvents) {
                    case "on" -> true;
                    case "off" -> false;
                    default -> throw new IllegalArgumentException("kvEvents must be on or off, got " + kvEvents);
                };
        BlockPool pool = new BlockPool(blocks, BLOCK_SIZE, true, recordEvents);
        SchedulerConfig config =
                new SchedulerConfig(8192, 512, 8192, SchedulingPolicy.FCFS, false, LoadFailurePolicy.FAIL);
        SchedulerConnector side =
                switch (connector) {
                    case "noop" -> noop = new NoOpSchedulerConnector();
                    case "offload" -> OffloadSide.create(BLOCK_SIZE, blocks);
                    case "none" -> null;
                    default ->
                        throw new IllegalArgumentException("connector must be none, noop or offload, got " + connector);
                };
        scheduler = new Scheduler(config, pool, side, side == null ? null : connector);

        SplittableRandom random = new SplittableRandom(2025);
        prompt = new int[SHARED_PROMPT_TOKENS + 1];
        for (int i = 0; i < SHARED_PROMPT_TOKENS; i++) {
            prompt[i] = 1 + random.nextInt(31_999);
        }
        // The first request computes the shared prefix and puts it into the prefix cache; the others
        // find it there. Their lifetimes are staggered so that finishes spread evenly over the steps.
        add(lifetime / requests);
        runStep();
        boolean spread =
                switch (phases) {
                    case "spread" -> true;
                    case "aligned" -> false;
                    default -> throw new IllegalArgumentException("phases must be spread or aligned, got " + phases);
                };
        for (int i = 1; i < requests; i++) {
            // A replacement starts one step after its predecessor finishes, and a lifetime that is
            // a multiple of the block size keeps that offset from then on: so the first lifetimes
            // decide every later request's offset within its block.
            add((int) ((long) (i + 1) * lifetime / requests) + (spread ? i % BLOCK_SIZE : 0));
        }
        for (int steps = 1; ; steps++) {
            int tokens = runStep();
            if (tokens == requests
                    && scheduler.view().runningRequests().size() == requests
                    && scheduler.view().waitingRequests().isEmpty()) {
                break;
            }
            if (steps == 10_000) {
                throw new IllegalStateException("no steady decode state after 10000 steps");
            }
        }
        measuredSteps = 0;
        impureSteps = 0;
    }

    /** One step: schedule, update with the workers' sampled tokens (its outcome drains the KV events), replacements. */
    @Benchmark
    public int step() {
        int tokens = runStep();
        measuredSteps++;
        if (tokens != requests) {
            impureSteps++;
        }
        return tokens;
    }

    private int runStep() {
        SchedulerOutput out = scheduler.schedule();
        // What the workers hand back: one token per entry that samples, in the step's work order.
        List<ScheduledWork> work = out.work();
        if (sampled.length != work.size()) {
            sampled = new int[work.size()];
        }
        for (int i = 0; i < sampled.length; i++) {
            sampled[i] = work.get(i).samples() ? SAMPLED_TOKEN : SampledTokens.NONE;
        }
        // The outcome carries the step's KV events too (drained from the scheduler every step).
        RequestUpdates updates = scheduler
                .update(out, StepResult.tokensOnly(SampledTokens.byPosition(out.step(), sampled)))
                .updates();
        // By index, as the engine reads them: no update object per sampled token.
        int finishes = 0;
        for (int i = 0; i < updates.size(); i++) {
            if (updates.isFinished(i)) {
                add(lifetime);
                finishes++;
            }
        }
        lastFinishes = finishes;
        return out.totalScheduledTokens();
    }

    /**
     * Requests that finished in the last step; each was replaced by a new request in the same call,
     * which the next step admits. For {@link SchedulerStepCpu}'s split of the allocation.
     */
    int lastFinishes() {
        return lastFinishes;
    }

    private void add(int maxTokens) {
        long id = nextId++;
        // The last prompt token is the request's own, so the blocks after the shared prefix differ.
        prompt[SHARED_PROMPT_TOKENS] = 1 + (int) (id % 31_999);
        String requestId = "r" + id;
        scheduler.addRequest(requestId, prompt, maxTokens, 0, TransferParams.empty(), Optional.empty());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        long preemptions = scheduler.stats().preemptions();
        long failed = scheduler.stats().requestsFailed();
        if (impureSteps > 0 || preemptions > 0 || failed > 0) {
            throw new IllegalStateException("not a steady decode state: " + impureSteps + " of " + measuredSteps
                    + " steps were not " + requests + " one-token entries, " + preemptions + " preemptions, "
                    + failed + " failed requests");
        }
        if (noop != null && noop.metadataBuilds < measuredSteps) {
            throw new IllegalStateException("the connector saw " + noop.metadataBuilds + " steps of " + measuredSteps);
        }
        scheduler.shutdown();
    }
}
