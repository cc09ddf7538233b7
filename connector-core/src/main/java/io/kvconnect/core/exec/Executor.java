package io.kvconnect.core.exec;

import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.kv.BlockGrants;
import io.kvconnect.core.logging.RateLimitedLog;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.memory.EngineBlockCopyService;
import io.kvconnect.core.memory.HostMemoryBudget;
import io.kvconnect.core.memory.KvLayouts;
import io.kvconnect.core.memory.KvMemory;
import io.kvconnect.core.memory.MemoryPlacement;
import io.kvconnect.core.model.KvMismatch;
import io.kvconnect.core.model.MismatchCounts;
import io.kvconnect.core.sched.ConnectorFatalError;
import io.kvconnect.core.sched.ContainedThrowable;
import io.kvconnect.core.sched.HookFailure;
import io.kvconnect.core.sched.HookTimer;
import io.kvconnect.core.sched.SchedulerOutput;
import io.kvconnect.core.sched.StepResult;
import io.kvconnect.core.sched.WorkerReports;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor: N tensor-parallel workers on their own threads and the executor-side aggregation
 * of their outputs.
 *
 * <p>{@link #submit} hands a step to every worker and returns at once, so the engine can schedule
 * the next step meanwhile (asynchronous scheduling); {@link #collect} waits for a step's results
 * and folds the ranks' connector outputs ({@link KvOutputAggregator}) into one {@link StepResult}
 * for the scheduler, with the worker-side hook failures as they happened: what they mean for
 * requests is the scheduler's decision. Steps complete in submission order.
 *
 * <p><b>Thread.</b> The engine thread calls every method.
 *
 * <p><b>Interrupts.</b> The engine thread is its caller's, so an interrupt of it while {@link
 * #collect} or {@link #disableConnector} waits for the workers is the caller cancelling, and ends
 * the wait with {@link InterruptedException}; one that a hook leaves set is cleared by the hook's
 * site. The worker threads are the engine's: an interrupt from anywhere else than {@link #close}
 * (a connector's own thread) does not end their waits (see {@link Worker}).
 */
public final class Executor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Executor.class);
    /** A step whose worker has not returned after this many hook timeouts is stuck. */
    private static final long STUCK_AFTER_TIMEOUTS = 4;

    private final List<Worker> workers = new ArrayList<>();
    private final @Nullable HookTimer timer;
    private final String connectorName;
    private final KvOutputAggregator aggregator;
    private boolean closed;
    /** Whether an interrupt of the engine thread resumes its waits (see {@link #ignoreStrayInterrupts}). */
    private boolean ignoreStrayInterrupts;

    /**
     * Creates the workers and their KV memory, and registers the KV caches with the connector.
     *
     * @param model the model shape
     * @param numWorkers tensor-parallel size
     * @param numBlocks GPU blocks per worker, the null block included
     * @param blockSize tokens per block
     * @param layout per-layer or cross-layer KV layout
     * @param connectors the worker-side connector of each rank, or {@code null} for none
     * @param verify whether the model checks every read
     * @param faults copy faults to inject (tests), {@link CopyFaults#NONE} otherwise
     * @param connectorName the connector's name, for messages
     * @param timer times the workers' hook calls, or {@code null} without a connector
     * @param hostBudget the connectors' host memory budget, shared by every worker's copy service
     * @param placement where the workers' KV caches live (host or CUDA device memory)
     * @throws IllegalStateException if creating a connector's worker side or its {@code
     *     registerKvCaches} failed or hung (the engine cannot run with a connector that has no KV
     *     cache)
     * @throws io.kvconnect.core.memory.KvMemoryUnavailableException if a worker's KV cache cannot
     *     be allocated
     */
    public Executor(
            ModelShape model,
            int numWorkers,
            int numBlocks,
            int blockSize,
            LayoutKind layout,
            IntFunction<@Nullable WorkerConnector> connectors,
            boolean verify,
            double eosRate,
            CopyFaults faults,
            String connectorName,
            @Nullable HookTimer timer,
            HostMemoryBudget hostBudget,
            MemoryPlacement placement) {
        AllReduce allReduce = new AllReduce(numWorkers);
        this.timer = timer;
        this.connectorName = connectorName;
        Duration bound = Duration.ofNanos(timer == null ? Long.MAX_VALUE : timer.timeoutNanos());
        try {
            for (int rank = 0; rank < numWorkers; rank++) {
                KvLayout kvLayout = KvLayouts.of(model, rank, numWorkers, numBlocks, blockSize, layout);
                KvMemory memory = placement.allocate(kvLayout);
                // Each worker's own grants, all free like a new block pool's ledger; it applies each
                // step's changes as it begins the step.
                EngineBlockCopyService copies = new EngineBlockCopyService(
                        memory, "kv-copy-" + rank, faults, new BlockGrants(numBlocks), hostBudget);
                int r = rank;
                WorkerConnector side = timer == null
                        ? connectors.apply(rank)
                        : BoundedCall.call(connectorName, "createWorkerConnector", bound, () -> connectors.apply(r));
                workers.add(new Worker(rank, memory, copies, side, allReduce, verify, eosRate, connectorName, timer));
            }
            for (Worker w : workers) {
                Optional<Throwable> failure = w.register()
                        .get(timer == null ? Long.MAX_VALUE : 2 * timer.timeoutNanos(), TimeUnit.NANOSECONDS);
                if (failure.isPresent()) {
                    throw new IllegalStateException(
                            "the connector's registerKvCaches failed on a worker: " + failure.get(), failure.get());
                }
            }
        } catch (TimeoutException e) {
            close();
            throw new IllegalStateException("the connector's registerKvCaches did not return on a worker", e);
        } catch (BoundedCall.PluginCallException e) {
            close();
            Throwable thrown = e.getCause(); // plugin code: kept only as an engine-owned copy
            throw new IllegalStateException(e.getMessage(), thrown == null ? null : ContainedThrowable.of(thrown));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while starting workers", e);
        } catch (ExecutionException | RuntimeException e) {
            close();
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
        aggregator = new KvOutputAggregator(numWorkers);
    }

    /**
     * The worker-side connectors' handshake metadata by rank (ranks without any are absent),
     * gathered after every worker registered its KV cache.
     */
    public Map<Integer, HandshakeMetadata> handshakeMetadata() {
        Map<Integer, HandshakeMetadata> byRank = new java.util.TreeMap<>();
        for (int rank = 0; rank < workers.size(); rank++) {
            int r = rank;
            workers.get(rank).handshakeMetadata().ifPresent(m -> byRank.put(r, m));
        }
        return java.util.Collections.unmodifiableMap(byRank);
    }

    /** A step handed to the workers. */
    public record StepHandle(SchedulerOutput output, List<Future<WorkerStepResult>> futures) {}

    /**
     * Hands {@code out} to every worker; returns at once.
     *
     * @param computeWindowNanos the step's modelled GPU compute time, which the workers' copy
     *     streams may use as a GPU's copy engine would
     */
    public StepHandle submit(SchedulerOutput out, long computeWindowNanos) {
        List<Future<WorkerStepResult>> futures = new ArrayList<>(workers.size());
        for (Worker w : workers) {
            futures.add(w.submit(out, computeWindowNanos));
        }
        return new StepHandle(out, futures);
    }

    /**
     * Waits for a step and folds the workers' results into one.
     *
     * @throws IllegalStateException if a worker failed outside connector code (an engine bug)
     */
    public ExecutorStepResult collect(StepHandle handle) throws InterruptedException {
        List<WorkerStepResult> results = new ArrayList<>(workers.size());
        for (int rank = 0; rank < workers.size(); rank++) {
            Future<WorkerStepResult> f = handle.futures().get(rank);
            try {
                results.add(await(f));
            } catch (ExecutionException e) {
                if (e.getCause() instanceof ConnectorFatalError fatal) {
                    throw fatal;
                }
                throw new IllegalStateException(
                        "a worker failed in step " + handle.output().step() + ": " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                // A hook past its timeout is interrupted; one still running this much later ignores
                // interrupts, and the rank cannot be taken back.
                String hook = workers.get(rank).currentHook();
                throw new ConnectorFatalError(
                        connectorName,
                        hook == null ? "a hook" : hook,
                        "worker " + rank,
                        new TimeoutException("step " + handle.output().step() + " did not end within "
                                + (timer == null ? 0 : STUCK_AFTER_TIMEOUTS * timer.timeoutNanos() / 1_000_000)
                                + " ms"));
            }
        }
        List<WorkerStepReport> perRank = new ArrayList<>(results.size());
        List<KvMismatch> mismatches = new ArrayList<>();
        List<HookFailure> failures = new ArrayList<>();
        Map<String, MismatchCounts> mismatchCounts = new LinkedHashMap<>();
        long compute = 0;
        boolean anyConnector = false;
        for (WorkerStepResult r : results) {
            perRank.add(r.connectorReport());
            anyConnector |= r.connectorReport() != null;
            mismatches.addAll(r.mismatches());
            r.mismatchCounts().forEach((id, n) -> mismatchCounts.merge(id, n, MismatchCounts::plus));
            failures.addAll(r.hookFailures());
            compute = Math.max(compute, r.computeNanos());
        }
        WorkerReports reports = anyConnector ? aggregator.aggregate(perRank) : WorkerReports.NONE;
        StepResult step = new StepResult(results.getFirst().sampledTokens(), reports, failures);
        return new ExecutorStepResult(step, mismatches, mismatchCounts, compute);
    }

    /**
     * The verifying model's counters over all workers.
     *
     * @param verifiedBlockReads block reads checked
     * @param trackedRequests requests the workers still keep state for (0 after a drain)
     */
    public record ModelCounters(long verifiedBlockReads, long trackedRequests) {}

    /** The verifying model's counters summed over the workers. */
    public ModelCounters modelCounters() {
        return new ModelCounters(sumOverWorkers(w -> w.runner().verifiedBlockReads()), sumOverWorkers(w -> w.runner()
                .trackedRequests()));
    }

    /** Bytes copied by the engine's copy services, per direction, over all workers. */
    public long bytesCopied(CopyFaults.Direction direction) {
        return sumOverWorkers(w -> w.copies().bytesCopied(direction));
    }

    /** Blocks copied by the engine's copy services, per direction, over all workers. */
    public long blocksCopied(CopyFaults.Direction direction) {
        return sumOverWorkers(w -> w.copies().blocksCopied(direction));
    }

    /** Copies the workers' copy services refused, summed over the workers. */
    public EngineBlockCopyService.RefusedCopies refusedCopies() {
        return new EngineBlockCopyService.RefusedCopies(
                sumOverWorkers(w -> w.copies().refusedCopies().notInUse()),
                sumOverWorkers(w -> w.copies().refusedCopies().notLoadTarget()),
                sumOverWorkers(w -> w.copies().refusedCopies().freed()),
                sumOverWorkers(w -> w.copies().refusedCopies().queueFull()));
    }

    /**
     * Loads a connector reported done (or loaded synchronously) without filling their blocks by a
     * copy and without reporting them failed itself, summed over the workers: each was treated as a
     * failed load. Not zero only for a connector that claims loads it does not make.
     */
    public long unfilledLoads() {
        return sumOverWorkers(Worker::unfilledLoads);
    }

    /** Copy-stream busy time per direction, summed over workers (each worker has its own stream). */
    public long copyNanos(CopyFaults.Direction direction) {
        return sumOverWorkers(w -> w.copies().copyNanos(direction));
    }

    private long sumOverWorkers(java.util.function.ToLongFunction<Worker> counter) {
        long total = 0;
        for (Worker w : workers) {
            total += counter.applyAsLong(w);
        }
        return total;
    }

    /**
     * Waits for a worker's step, at most {@link #STUCK_AFTER_TIMEOUTS} hook timeouts when hooks are
     * timed; after {@link #ignoreStrayInterrupts()} an interrupt resumes the wait with what is
     * left of it.
     */
    private <T> T await(Future<T> f) throws InterruptedException, ExecutionException, TimeoutException {
        return timer == null
                ? await(f, ignoreStrayInterrupts)
                : await(f, STUCK_AFTER_TIMEOUTS * timer.timeoutNanos(), ignoreStrayInterrupts);
    }

    /**
     * The engine thread's wait for {@code f}, unbounded; {@code resume}: an interrupt is stray,
     * logged, and the wait goes on (see {@link #ignoreStrayInterrupts()}).
     */
    static <T> T await(Future<T> f, boolean resume) throws InterruptedException, ExecutionException {
        while (true) {
            try {
                return f.get();
            } catch (InterruptedException e) {
                stray(e, resume);
            }
        }
    }

    /** As {@link #await(Future, boolean)}, for at most {@code timeoutNanos} in all, interrupts or not. */
    static <T> T await(Future<T> f, long timeoutNanos, boolean resume)
            throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            try {
                return f.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                stray(e, resume);
            }
        }
    }

    /** Rethrows {@code e} unless interrupts are stray ({@code resume}); then logs it. */
    private static void stray(InterruptedException e, boolean resume) throws InterruptedException {
        if (!resume) {
            throw e;
        }
        strayInterrupt();
    }

    /**
     * From now on an interrupt of the engine thread while it waits for the workers is not the
     * caller cancelling but stray (a connector's own thread reached the engine thread): it is
     * logged and the wait goes on. For a caller that never interrupts the engine thread to cancel a
     * step, such as the product's own commands; see {@code Engine.ignoreStrayInterrupts()}.
     */
    public void ignoreStrayInterrupts() {
        ignoreStrayInterrupts = true;
        for (Worker w : workers) {
            w.ignoreStrayInterruptsOfCaller();
        }
    }

    /** Logs a stray interrupt of the engine thread (rate-limited). */
    public static void strayInterrupt() {
        RateLimitedLog.forLogger(LOG)
                .warn(
                        "stray-interrupt-engine",
                        "The engine thread was interrupted by a thread that is not its caller's (a connector's own "
                                + "thread?); the engine ignores the interrupt and goes on");
    }

    /**
     * Shuts every worker side of the connector down and detaches it; returns once all have
     * finished (after any step already submitted).
     */
    public void disableConnector() throws InterruptedException {
        List<Future<?>> done = new ArrayList<>();
        for (Worker w : workers) {
            done.add(w.disableConnector());
        }
        for (Future<?> f : done) {
            try {
                await(f, ignoreStrayInterrupts);
            } catch (ExecutionException e) {
                throw new IllegalStateException("disabling the connector failed on a worker", e.getCause());
            }
        }
    }

    /** Shuts every worker down (connector first, then thread, copies and memory). Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // The workers stay in the list: their counters remain readable for the end report.
        for (Worker w : workers) {
            w.close();
        }
    }
}
