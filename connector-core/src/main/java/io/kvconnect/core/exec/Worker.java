package io.kvconnect.core.exec;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.kv.BlockGrants;
import io.kvconnect.core.logging.RateLimitedLog;
import io.kvconnect.core.memory.EngineBlockCopyService;
import io.kvconnect.core.memory.KvMemory;
import io.kvconnect.core.model.ModelRunner;
import io.kvconnect.core.sched.ConnectorFatalError;
import io.kvconnect.core.sched.ConnectorHook;
import io.kvconnect.core.sched.ContainedThrowable;
import io.kvconnect.core.sched.HookFailure;
import io.kvconnect.core.sched.HookTimer;
import io.kvconnect.core.sched.SampledTokens;
import io.kvconnect.core.sched.ScheduledWork;
import io.kvconnect.core.sched.SchedulerOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tensor-parallel worker: its own thread, KV memory, copy service, verifying model and
 * worker-side connector. Steps run on the worker thread strictly in submission order, which is
 * what makes asynchronous scheduling safe: step N's writes precede step N+1's.
 *
 * <p>Worker-side connector hooks are called in the order the API documents; anything one throws
 * (any {@link Throwable}), and a call that runs past the hook timeout, is recorded as a {@link
 * HookFailure} and the step goes on (the executor decides what it means for the step's requests).
 * Heap exhaustion in a hook is fatal: it fails the step with a {@link ConnectorFatalError}.
 *
 * <p><b>Interrupts.</b> The worker thread is the engine's, and only plugin code runs on it besides
 * the engine: an interrupt that neither the hook timer nor {@link #close()} sent comes from a
 * connector's own thread. It must not end the step, so the worker's waits for copies and for the
 * other ranks resume after it and a stray one found before a hook is cleared ({@link
 * WorkerInterrupts}); only {@link #close()} ends them.
 */
final class Worker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

    private final int rank;
    private final KvMemory memory;
    private final EngineBlockCopyService copies;
    private final ModelRunner runner;
    /** The worker side, or {@code null}; only this worker's thread reads or changes it. */
    private @Nullable WorkerConnector connector;

    private final AllReduce allReduce;
    private final WorkerInterrupts interrupts;
    /** See {@link #ignoreStrayInterruptsOfCaller()}; engine thread only. */
    private boolean callerIgnoresInterrupts;

    private final ExecutorService thread;
    private final String connectorName;
    /** Bounds each hook call; {@code null} without a connector. */
    private final @Nullable HookTimer timer;

    private final HookTimer.@Nullable Site site;
    /**
     * Asynchronous loads in flight, with the blocks each must fill, until the connector reports
     * them finished on this worker or the engine ends them without that report. Worker thread only.
     */
    private final Map<String, PendingLoad> pendingAsyncLoads = new HashMap<>();
    /**
     * This step's loads whose blocks were not all filled by a copy when checked; judged once the
     * connector's report of the step is in (see {@link #blameUnfilled}). Worker thread only.
     */
    private final List<UnfilledLoad> unfilled = new ArrayList<>();
    /** Loads a connector reported done without filling their blocks and without reporting them failed. */
    private final AtomicLong unfilledLoads = new AtomicLong();
    /** The connector's handshake metadata, set on the worker thread by {@link #register()}. */
    private volatile Optional<HandshakeMetadata> handshake = Optional.empty();

    Worker(
            int rank,
            KvMemory memory,
            EngineBlockCopyService copies,
            @Nullable WorkerConnector connector,
            AllReduce allReduce,
            boolean verify,
            double eosRate,
            String connectorName,
            @Nullable HookTimer timer) {
        this.rank = rank;
        this.connectorName = connectorName;
        this.timer = timer;
        this.site = timer == null ? null : timer.site("worker " + rank);
        this.memory = memory;
        this.copies = copies;
        this.connector = connector;
        this.allReduce = allReduce;
        this.interrupts = new WorkerInterrupts(rank);
        this.runner = new ModelRunner(memory, rank, verify, eosRate);
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kv-worker-" + rank);
            t.setDaemon(true);
            return t;
        });
    }

    /** Registers the KV cache with the connector, on the worker thread; the exception if it threw. */
    Future<Optional<Throwable>> register() {
        return thread.submit(() -> {
            WorkerConnector c = connector;
            if (c == null) {
                return Optional.empty();
            }
            List<HookFailure> failures = new ArrayList<>();
            hook(failures, ConnectorHook.REGISTER_KV_CACHES, () -> c.registerKvCaches(memory.layout(), copies));
            if (failures.isEmpty()) {
                Optional<HandshakeMetadata> meta =
                        call(failures, ConnectorHook.HANDSHAKE_METADATA, c::handshakeMetadata);
                if (meta != null) {
                    handshake = meta;
                }
            }
            return failures.isEmpty()
                    ? Optional.empty()
                    : Optional.of(failures.getFirst().error());
        });
    }

    /** The connector's handshake metadata; valid once {@link #register()} completed. */
    Optional<HandshakeMetadata> handshakeMetadata() {
        return handshake;
    }

    /**
     * Queues a step.
     *
     * @param computeWindowNanos the step's modelled GPU compute time: the copy stream may use it
     */
    Future<WorkerStepResult> submit(SchedulerOutput out, long computeWindowNanos) {
        return thread.submit(() -> {
            try {
                return run(out, computeWindowNanos);
            } catch (RuntimeException | Error e) {
                // An engine bug: release the other ranks from the all-reduce so they fail fast too.
                allReduce.breakAll();
                throw e;
            }
        });
    }

    private WorkerStepResult run(SchedulerOutput out, long computeWindowNanos) throws InterruptedException {
        // Read once: only this thread changes it, and not during a step.
        WorkerConnector c = connector;
        List<HookFailure> failures = new ArrayList<>();
        ConnectorMetadata meta = out.connectorMetadata();
        // The grants as this step was scheduled: from now on a copy of a block freed for this step
        // fails. Then, before the model writes any block, a copy past its grant check finishes
        // first, so a block freed for this step is never read or written by an earlier copy (see
        // BlockGrants).
        copies.grants().apply(out.grantChanges());
        copies.awaitCopyInFlight();
        Set<Integer> unloaded = new HashSet<>();
        if (c != null) {
            forgetEndedLoads();
            out.asyncLoadBlocks()
                    .forEach((id, blocks) -> pendingAsyncLoads.put(id, PendingLoad.of(blocks, copies.grants())));
            hook(failures, ConnectorHook.HANDLE_PREEMPTIONS, () -> c.handlePreemptions(meta));
            hook(failures, ConnectorHook.BIND_CONNECTOR_METADATA, () -> c.bindConnectorMetadata(meta));
            hook(failures, ConnectorHook.START_LOAD_KV, c::startLoadKv);
        }
        long computeNanos = 0;
        SampledTokens sampled = SampledTokens.byPosition(out.step(), new int[0]);
        if (out.hasWork()) {
            runner.beginStep(out);
            for (int layer = 0; layer < runner.numLayers(); layer++) {
                int l = layer;
                if (c != null) {
                    hook(failures, ConnectorHook.WAIT_FOR_LAYER_LOAD, () -> c.waitForLayerLoad(l));
                    if (layer == 0) {
                        checkSynchronousLoads(out, unloaded);
                    }
                }
                long t0 = System.nanoTime();
                runner.computeLayer(layer);
                computeNanos += System.nanoTime() - t0;
                if (c != null) {
                    hook(failures, ConnectorHook.SAVE_KV_LAYER, () -> c.saveKvLayer(l));
                }
            }
            runner.endCompute();
            // On a GPU the copy engine works while the step computes. Our compute takes far less
            // wall time than the modelled cost it stands for, so give the copy stream the rest of
            // the modelled window to finish what is queued (loads of this step, stores of earlier
            // ones); the wait is covered by the modelled cost, so it is not charged again.
            computeNanos += awaitQueuedCopies(computeWindowNanos - computeNanos);
            if (c != null) {
                hook(failures, ConnectorHook.WAIT_FOR_SAVE, c::waitForSave);
            }
            long t0 = System.nanoTime();
            long[] summed = allReduce.sum(rank, runner.partialDigests(), interrupts);
            sampled = runner.sample(summed);
            computeNanos += System.nanoTime() - t0;
        } else {
            runner.beginStep(out);
        }
        WorkerStepReport report = c == null ? null : report(c, out.finishedRequestIds(), failures, unloaded);
        return new WorkerStepResult(
                rank, sampled, report, failures, runner.takeMismatches(), runner.takeMismatchCounts(), computeNanos);
    }

    /**
     * Gives the copy streams up to {@code maxNanos} to finish the copies queued so far, resuming
     * after a stray interrupt; returns the nanoseconds waited.
     */
    private long awaitQueuedCopies(long maxNanos) throws InterruptedException {
        long t0 = System.nanoTime();
        // Measured here, not summed from the tries: a try a stray interrupt cut short counts too.
        interrupts.await(maxNanos, copies::awaitQueued);
        return System.nanoTime() - t0;
    }

    /**
     * The connector's report of the step, with the engine's own finding of blocks a load did not
     * fill joined to its failed-load blocks. A report that names a contained failure is recorded as
     * a failure of {@code reportStep} (so the step's loads fail) and its parts are kept; a call that
     * throws, returns null or overruns loses the report.
     */
    private WorkerStepReport report(
            WorkerConnector c, Set<String> finished, List<HookFailure> failures, Set<Integer> unloaded) {
        WorkerStepReport report = call(failures, ConnectorHook.REPORT_STEP, () -> c.reportStep(finished));
        if (report != null) {
            report.failure().ifPresent(e -> reportedFailure(failures, e));
            forgetReportedInvalid(report.invalidBlockIds());
            checkAsynchronousLoads(report.finishedReceiving(), unloaded);
        }
        blameUnfilled(report == null ? Set.of() : report.invalidBlockIds());
        hook(failures, ConnectorHook.CLEAR_CONNECTOR_METADATA, c::clearConnectorMetadata);
        if (unloaded.isEmpty()) {
            return report == null ? WorkerStepReport.EMPTY : report;
        }
        // The engine's own finding joins the connector's report: handled the same way.
        if (report == null) {
            report = WorkerStepReport.EMPTY;
        }
        Set<Integer> invalid = new HashSet<>(unloaded);
        invalid.addAll(report.invalidBlockIds());
        return new WorkerStepReport(
                report.finishedSending(),
                report.finishedReceiving(),
                invalid,
                report.stats(),
                report.events(),
                report.workerMetadata(),
                report.failure());
    }

    private void hook(List<HookFailure> failures, ConnectorHook hook, Runnable call) {
        call(failures, hook, () -> {
            call.run();
            return Boolean.TRUE;
        });
    }

    /** Calls a hook; {@code null} if it threw, returned null or ran past the hook timeout. */
    private <T> @Nullable T call(List<HookFailure> failures, ConnectorHook hook, Supplier<T> call) {
        T value;
        interrupts.clearStray();
        if (site != null) {
            site.enter(hook.toString());
        }
        try {
            value = call.get();
        } catch (Throwable e) {
            exitSite();
            failed(failures, hook, e);
            return null;
        }
        if (exitSite()) {
            // exitSite() said it overran, which takes a site, so a timer.
            failed(
                    failures,
                    hook,
                    new TimeoutException(Objects.requireNonNull(timer, "timer").overranReason(hook.toString())));
            return null;
        }
        if (value == null) {
            failed(failures, hook, new NullPointerException(hook + " returned null"));
        }
        return value;
    }

    private boolean exitSite() {
        return site != null && site.exit();
    }

    /** A failure the connector contained and named in its report: recorded like a throw of {@code reportStep}. */
    private void reportedFailure(List<HookFailure> failures, Throwable reported) {
        if (reported instanceof OutOfMemoryError oom) {
            throw new ConnectorFatalError(connectorName, ConnectorHook.REPORT_STEP.toString(), "worker " + rank, oom);
        }
        // Logged and kept for the scheduler's messages: plugin code, so only as an engine-owned copy.
        Throwable e = ContainedThrowable.of(reported);
        RateLimitedLog.forLogger(LOG)
                .error(
                        ConnectorHook.REPORT_STEP.failureLogKind(),
                        "Worker {}: connector's step report names a failure; the engine keeps the report and treats the "
                                + "step's loads as failed",
                        rank,
                        e);
        failures.add(new HookFailure(rank, ConnectorHook.REPORT_STEP, e));
    }

    private void failed(List<HookFailure> failures, ConnectorHook hook, Throwable thrown) {
        if (thrown instanceof OutOfMemoryError oom) {
            throw new ConnectorFatalError(connectorName, hook.toString(), "worker " + rank, oom);
        }
        // Logged and kept for the scheduler's messages: plugin code, so only as an engine-owned copy.
        Throwable e = ContainedThrowable.of(thrown);
        // Rate-limited per hook: a connector that throws on every call must not flood the log.
        RateLimitedLog.forLogger(LOG)
                .error(
                        hook.failureLogKind(),
                        "Worker {}: connector hook {} threw; the engine contains it and goes on",
                        rank,
                        hook,
                        e);
        failures.add(new HookFailure(rank, hook, e));
    }

    /**
     * Before the step reads loaded KV: every block of this step's synchronous loads must have been
     * filled by a load copy. A connector that said it loads tokens but did not fill their blocks
     * (or whose copy failed without its saying so) gets them treated as a failed load, never read
     * as KV that nobody wrote.
     */
    private void checkSynchronousLoads(SchedulerOutput out, Set<Integer> unloaded) {
        BlockGrants grants = copies.grants();
        int blockSize = memory.layout().blockSize();
        for (ScheduledWork w : out.work()) {
            if (w.externalTokens() == 0) {
                continue;
            }
            int from = (w.start() - w.externalTokens()) / blockSize;
            int to = Math.min(Math.ceilDiv(w.start(), blockSize), w.numBlocks());
            List<Integer> missing = null;
            for (int i = from; i < to; i++) {
                int b = w.block(i);
                if (!grants.loaded(b)) {
                    if (missing == null) {
                        missing = new ArrayList<>();
                    }
                    missing.add(b);
                }
            }
            if (missing != null) {
                unloaded.addAll(missing);
                int[] range = IntStream.range(from, to).map(w::block).toArray();
                unfilled.add(new UnfilledLoad(true, w.requestId(), w.externalTokens(), range, missing));
            }
        }
    }

    /** When the connector reports asynchronous loads finished: every block they had to fill must be filled. */
    private void checkAsynchronousLoads(Set<String> receiving, Set<Integer> unloaded) {
        if (pendingAsyncLoads.isEmpty()) {
            return;
        }
        BlockGrants grants = copies.grants();
        for (String id : receiving) {
            PendingLoad load = pendingAsyncLoads.remove(id);
            if (load == null) {
                continue;
            }
            List<Integer> missing = new ArrayList<>();
            for (int b : load.blocks()) {
                if (!grants.loaded(b)) {
                    missing.add(b);
                }
            }
            if (!missing.isEmpty()) {
                unloaded.addAll(missing);
                unfilled.add(new UnfilledLoad(false, id, 0, load.blocks(), missing));
            }
        }
    }

    /**
     * Blocks the connector reported invalid need no check when their load is reported finished:
     * the connector said itself that the load failed. Nor do the blocks after them in the load:
     * the engine recomputes a request from its first failed block on, so a connector may leave
     * them unfilled, as a load that stops at its first failure does. A connector may report them
     * before the load finishes (a composite reports a child's failed blocks at once and the load
     * when its last child is done), so the pending loads are cut as they are reported.
     */
    private void forgetReportedInvalid(Set<Integer> invalid) {
        if (invalid.isEmpty() || pendingAsyncLoads.isEmpty()) {
            return;
        }
        pendingAsyncLoads.replaceAll((id, load) -> load.beforeFirstOf(invalid));
    }

    /**
     * Forgets the loads the engine ended without their report: it gives up on a load the connector
     * does not finish in time and frees its blocks, which may then be another request's. A report
     * that comes after all must not judge those blocks (they were not filled by a load, so the
     * current owner would be failed for them), and an entry nobody reports must not stay forever.
     * A block's generation changes when it is freed, and the worker sees that from the step that
     * frees it: the grants it has just applied.
     */
    private void forgetEndedLoads() {
        if (!pendingAsyncLoads.isEmpty()) {
            BlockGrants grants = copies.grants();
            pendingAsyncLoads.values().removeIf(load -> load.endedIn(grants));
        }
    }

    /**
     * An asynchronous load in flight: the blocks it must fill, with each one's generation when the
     * load was granted, so that the worker can tell the load was ended (its blocks freed).
     */
    private record PendingLoad(int[] blocks, int[] generations) {
        static PendingLoad of(int[] blocks, BlockGrants grants) {
            int[] generations = new int[blocks.length];
            for (int i = 0; i < blocks.length; i++) {
                generations[i] = grants.generation(blocks[i]);
            }
            return new PendingLoad(blocks, generations);
        }

        /** Whether any of its blocks was freed since the load was granted. */
        boolean endedIn(BlockGrants grants) {
            for (int i = 0; i < blocks.length; i++) {
                if (grants.generation(blocks[i]) != generations[i]) {
                    return true;
                }
            }
            return false;
        }

        /**
         * This load cut before its first block in {@code reported}: the engine recomputes the
         * request from that block on, so the blocks after it need not be filled either.
         */
        PendingLoad beforeFirstOf(Set<Integer> reported) {
            int n = beforeFirstFailed(blocks, reported);
            return n == blocks.length ? this : new PendingLoad(Arrays.copyOf(blocks, n), Arrays.copyOf(generations, n));
        }
    }

    /** How many blocks of a load, in its block order, come before the first one reported invalid. */
    private static int beforeFirstFailed(int[] range, Set<Integer> invalid) {
        int n = 0;
        while (n < range.length && !invalid.contains(range[n])) {
            n++;
        }
        return n;
    }

    /**
     * A load whose blocks {@code missing} were not filled by a copy when the engine checked them.
     *
     * @param range the blocks the load had to fill, in the request's block order
     */
    private record UnfilledLoad(
            boolean sync, String requestId, int externalTokens, int[] range, List<Integer> missing) {}

    /**
     * Logs and counts this step's loads whose unfilled blocks the connector did not report failed
     * itself: those it claimed without copying. A load it reports failed (its blocks among the
     * report's invalid blocks, as a failed load is reported finished with them, or an earlier
     * block of the load, after which nothing of it is used) is its own honest report, not a
     * claim. Either way the blocks are failed loads.
     */
    private void blameUnfilled(Set<Integer> reportedInvalid) {
        for (UnfilledLoad u : unfilled) {
            Set<Integer> beforeFailure = IntStream.of(u.range())
                    .limit(beforeFirstFailed(u.range(), reportedInvalid))
                    .boxed()
                    .collect(Collectors.toSet());
            List<Integer> claimed =
                    u.missing().stream().filter(beforeFailure::contains).toList();
            if (claimed.isEmpty()) {
                continue;
            }
            unfilledLoads.incrementAndGet();
            if (u.sync()) {
                RateLimitedLog.forLogger(LOG)
                        .error(
                                "sync-load-unfilled",
                                "Worker {}: connector '{}' loads {} tokens of request {} synchronously but blocks {} were not "
                                        + "filled by a load copy before the step read them; treated as a failed load",
                                rank,
                                connectorName,
                                u.externalTokens(),
                                u.requestId(),
                                claimed);
            } else {
                RateLimitedLog.forLogger(LOG)
                        .error(
                                "async-load-unfilled",
                                "Worker {}: connector '{}' reports the load of request {} finished but blocks {} were not "
                                        + "filled by a load copy; treated as a failed load",
                                rank,
                                connectorName,
                                u.requestId(),
                                claimed);
            }
        }
        unfilled.clear();
    }

    /**
     * Loads a connector reported done (or loaded synchronously) without filling their blocks by a
     * copy and without reporting those blocks failed itself, since this worker started. Any thread.
     */
    long unfilledLoads() {
        return unfilledLoads.get();
    }

    /** The hook this worker is running now, or {@code null} (for messages about a stuck step). */
    @Nullable
    String currentHook() {
        return site == null ? null : site.currentHook();
    }

    /** Shuts the worker side down and detaches it, on the worker thread after every queued step. */
    Future<?> disableConnector() {
        return thread.submit(() -> {
            WorkerConnector c = connector;
            connector = null;
            pendingAsyncLoads.clear();
            if (c != null) {
                shutdownContained(c);
            }
        });
    }

    /** Shuts {@code c} down on this worker's thread; whatever it throws is logged, never propagated. */
    private void shutdownContained(WorkerConnector c) {
        List<HookFailure> failures = new ArrayList<>();
        try {
            hook(failures, ConnectorHook.SHUTDOWN, c::shutdown);
        } catch (ConnectorFatalError e) {
            LOG.error("Worker {}: the connector's shutdown exhausted the heap", rank, e.getCause());
        }
    }

    /** Counters of the model runner, read after the worker stopped or between steps. */
    ModelRunner runner() {
        return runner;
    }

    EngineBlockCopyService copies() {
        return copies;
    }

    /**
     * The caller (the engine thread) never interrupts to cancel: an interrupt of it while {@link
     * #close()} waits for the connector's shutdown is a connector's, and the wait goes on.
     */
    void ignoreStrayInterruptsOfCaller() {
        callerIgnoresInterrupts = true;
    }

    /** Shuts the connector down on the worker thread, then stops the thread and frees the memory. */
    @Override
    public void close() {
        try {
            if (connector != null) {
                WorkerConnector c = connector;
                // At most two hook timeouts when hooks are timed.
                Future<?> shutdown = thread.submit(() -> shutdownContained(c));
                if (timer == null) {
                    Executor.await(shutdown, callerIgnoresInterrupts);
                } else {
                    Executor.await(shutdown, 2 * timer.timeoutNanos(), callerIgnoresInterrupts);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.error("Worker {}: the connector's shutdown did not end cleanly", rank, e);
        } finally {
            // The flag first: the waits that the interrupt ends must take it for the engine's.
            interrupts.close();
            thread.shutdownNow();
            copies.close();
            memory.close();
        }
    }
}
