package io.kvconnect.core.sched;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.core.kv.BlockHasher;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.ConnectorBlockView;
import io.kvconnect.core.kv.KvCacheManager;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.IntStream;

/**
 * The scheduler's parts wired together as {@link Scheduler} wires them, with a scripted connector
 * (or none) and a clock the test moves, so that a test can drive one part directly and watch the
 * others. Blocks of {@value #BLOCK} tokens; close it to stop the connector's hook timer.
 */
final class Parts implements AutoCloseable {
    static final int BLOCK = 4;
    static final Duration CONNECTOR_TIMEOUT = Duration.ofSeconds(10);

    final SchedulerConfig config;
    final BlockPool pool;
    final KvCacheManager kv;
    final BlockHasher hasher;
    final SchedulerStats stats = new SchedulerStats();
    final StepClock clock = new StepClock();
    final Outbox outbox = new Outbox();
    final ScriptedConnector connector;
    final ConnectorCalls calls;
    final ConnectorBlockView connectorView;
    /** The watchdog's clock, in nanoseconds. */
    long now;

    final ConnectorWatchdog watchdog;
    final TransferBook transfers;
    final HeldOutputs held;
    final RequestQueues queues;
    final LoadFailureRecovery recovery;
    final Admission admission;
    final Preemption preemption;
    final StepPlanner planner;
    final OutputApplier applier;
    final ConnectorLiveness liveness;
    final SchedulerView view;
    private long arrivals;

    /** Defaults: FCFS, synchronous scheduling, policy recompute, a window of one step. */
    static SchedulerConfig config() {
        return new SchedulerConfig(
                64,
                8,
                64,
                SchedulingPolicy.FCFS,
                false,
                LoadFailurePolicy.RECOMPUTE,
                ConnectorErrorPolicy.FAIL_REQUESTS,
                1,
                CONNECTOR_TIMEOUT);
    }

    /**
     * @param config limits and modes
     * @param blocks usable GPU blocks
     * @param connector the connector, or {@code null} for none
     * @param workers ranks that report finished transfers
     */
    Parts(SchedulerConfig config, int blocks, ScriptedConnector connector, int workers) {
        this.config = config;
        this.pool = new BlockPool(blocks + 1, BLOCK, true);
        this.kv = new KvCacheManager(pool);
        this.hasher = new BlockHasher(BLOCK);
        this.connector = connector;
        this.calls = new ConnectorCalls(connector, connector == null ? null : "scripted", config, null, stats);
        this.connectorView = new ConnectorBlockView(pool, config.connectorBlockReferences(), Thread.currentThread());
        this.watchdog = new ConnectorWatchdog(config.connectorTimeout().toNanos(), () -> now);
        this.transfers = new TransferBook(kv, watchdog, stats);
        this.held = new HeldOutputs(stats, outbox);
        this.queues = new RequestQueues(config.policy(), kv, calls, transfers, held, outbox, stats);
        this.recovery = new LoadFailureRecovery(config, kv, queues, transfers, held, clock, stats);
        this.admission = new Admission(config, kv, queues, calls, transfers, held, recovery, clock, stats);
        this.preemption = new Preemption(config.policy(), queues, transfers, held, kv, clock, stats);
        this.planner = new StepPlanner(config, kv, queues, admission, preemption, calls, transfers, clock);
        this.applier = new OutputApplier(config, kv, queues, calls, transfers, held, recovery, outbox, clock);
        this.liveness = new ConnectorLiveness(
                config, watchdog, calls, connectorView, kv, queues, transfers, recovery, clock, stats);
        this.view = new SchedulerView(config, kv, connectorView, queues, transfers, clock);
        transfers.expectReports(workers, OptionalInt.empty());
    }

    Parts(SchedulerConfig config, int blocks, ScriptedConnector connector) {
        this(config, blocks, connector, 1);
    }

    /** A request with a prompt of {@code promptTokens} distinct tokens, not yet known to the queues. */
    Request request(String id, int promptTokens, int maxTokens) {
        return request(id, prompt(promptTokens), maxTokens, 0);
    }

    Request request(String id, int[] prompt, int maxTokens, int priority) {
        return new Request(
                id, prompt, maxTokens, priority, arrivals++, TransferParams.empty(), Optional.empty(), hasher, kv);
    }

    /** A request that arrived: known and waiting. */
    Request arrive(String id, int promptTokens, int maxTokens) {
        Request r = request(id, promptTokens, maxTokens);
        queues.arrive(r);
        return r;
    }

    /** Tokens 101, 102, ...: the same prefix for every request, so they share it through the prefix cache. */
    static int[] prompt(int n) {
        return IntStream.rangeClosed(1, n).map(i -> 100 + i).toArray();
    }

    /** Starts and plans the next step, as the scheduler does (without the watchdog). */
    SchedulerOutput schedule() {
        clock.next();
        return planner.plan();
    }

    @Override
    public void close() {
        calls.shutdown();
    }
}
