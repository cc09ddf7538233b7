package io.kvconnect.core.engine;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.events.KvEventPublisher;
import io.kvconnect.core.exec.Executor;
import io.kvconnect.core.exec.ExecutorStepResult;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.memory.HostMemoryBudget;
import io.kvconnect.core.memory.MemoryPlacement;
import io.kvconnect.core.model.KvMismatch;
import io.kvconnect.core.model.MismatchCounts;
import io.kvconnect.core.sched.ConnectorFatalError;
import io.kvconnect.core.sched.HoldResolution;
import io.kvconnect.core.sched.HookTimer;
import io.kvconnect.core.sched.RequestUpdate;
import io.kvconnect.core.sched.RequestUpdates;
import io.kvconnect.core.sched.ScheduledWork;
import io.kvconnect.core.sched.Scheduler;
import io.kvconnect.core.sched.SchedulerOutput;
import io.kvconnect.core.sched.StepOutcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine loop: scheduler, executor and connector, stepped by one thread.
 *
 * <p>{@link #step()} is schedule ({@link Scheduler#schedule()}), submit ({@link Executor#submit}),
 * collect ({@link Executor#collect}, which folds the workers' results into a {@code StepResult}
 * without asking the scheduler) and apply ({@link Scheduler#update}, which returns everything the
 * engine needs as one {@code StepOutcome}). Synchronous mode: schedule step N, run it, apply its
 * output. Asynchronous mode: schedule and submit step N+1 before applying step N's output, so the
 * workers never wait for the scheduler.
 *
 * <p>Time is modelled: each step advances {@link #now()} by the modelled compute cost plus the real
 * wall time of everything else in the step (scheduling, connector hooks, waits for copies,
 * aggregation). The verifying model's own work, which stands in for the GPU, is not charged.
 * Copies overlap the modelled compute as they would on a GPU's copy engine: each worker gives its
 * copy stream what is left of the modelled compute time of the step to finish the copies queued so
 * far, and that wait is not charged either. Without this a step would be far shorter in wall time
 * than the time it models, and an asynchronous copy would appear to span many steps.
 *
 * <p><b>Liveness.</b> {@link #hasWork()} stays true while the connector holds blocks or reports
 * pending work, so transfers and leases complete without new traffic.
 *
 * <p><b>Thread.</b> One thread drives the engine; it is not thread-safe.
 *
 * <p><b>Interrupts.</b> The thread that drives the engine is the caller's, and interrupting it is
 * how the caller cancels: a step waiting for its workers then throws {@link InterruptedException}
 * (see {@link #step()}). The engine cannot tell that from a connector's own thread interrupting the
 * engine thread between hooks, so a caller that never cancels that way says so ({@link
 * #ignoreStrayInterrupts()}, as the product's commands do) and interrupts are then ignored; an
 * interrupt a scheduler-side hook leaves set is cleared either way. The worker threads are the
 * engine's and run only the engine and worker-side hooks: an interrupt from a connector's thread
 * does not stop them (it is logged, and the step completes as if it had not come); {@link
 * #close()} stops them.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /**
     * The KV memory choice and its reason, as last logged at INFO: a process that builds several
     * engines (a run and its baseline, the kit's scenarios) says it once, and again only when it
     * changes; the run report names it for every run.
     */
    private static final AtomicReference<String> LOGGED_PLACEMENT = new AtomicReference<>("");

    private final EngineSetup setup;
    private final Scheduler scheduler;
    private final Executor executor;
    /** Where the workers' KV caches live, and why (for the log and the run report). */
    private MemoryPlacement placement;

    private final EngineMetrics metrics;
    /** Whether a step was interrupted (its results are lost): no further step may run. */
    private boolean cancelled;
    /** Whether interrupts of the engine thread are stray, never the caller's ({@link #ignoreStrayInterrupts}). */
    private boolean ignoreStrayInterrupts;

    /** How the engine thread waits after a step with nothing to do. */
    private final IdleBackoff idle;
    /** Publishes the KV events outside the process; {@code null} when {@code kv_events} is not set. */
    private final @Nullable KvEventPublisher kvEvents;
    /** Times connector hook calls on the scheduler and worker threads; {@code null} without a connector. */
    private final @Nullable HookTimer hookTimer;
    /** The step submitted and not yet collected (asynchronous scheduling); {@code null} if none. */
    private Executor.@Nullable StepHandle inFlight;

    private double now;
    private boolean closed;
    /** Wrong reads of steps whose outputs the scheduler holds back: used or discarded is told later. */
    private final Map<String, MismatchCounts> heldMismatches = new HashMap<>();
    /** Updates of requests refused or aborted between steps: the next step returns them first. */
    private final List<RequestUpdates> updatesBetweenSteps = new ArrayList<>();
    /** The parts of one {@link #step()}'s updates; cleared and refilled by each step. */
    private final List<RequestUpdates> stepParts = new ArrayList<>();

    /**
     * Builds the engine: block pool, scheduler, workers with their KV memory, and the connector's
     * sides (the worker sides register their KV caches here).
     *
     * @throws IllegalStateException if the connector cannot register its KV caches
     */
    public Engine(EngineSetup setup) {
        this(setup, IdleBackoff.parking());
    }

    /** As {@link #Engine(EngineSetup)}, waiting after idle steps through {@code idle} (tests record the waits). */
    Engine(EngineSetup setup, IdleBackoff idle) {
        this.setup = setup;
        this.idle = idle;
        // The GPU pool's KV events are built only for a publisher; otherwise the pool counts them.
        boolean recordEvents = setup.config().kvEvents().isPresent();
        BlockPool pool =
                new BlockPool(setup.config().gpuBlocks() + 1, setup.config().blockSize(), true, recordEvents);
        EngineSetup.ConnectorSides sides = setup.connector().orElse(null);
        SchedulerConnector sc = sides == null ? null : sides.scheduler();
        String name = sides == null ? null : sides.name();
        this.hookTimer = sides == null
                ? null
                : new HookTimer(
                        sides.name(), setup.config().scheduler().hookTimeout().toNanos());
        try {
            this.scheduler = new Scheduler(
                    setup.config().scheduler(), pool, sc, name, setup.config().workers(), System::nanoTime, hookTimer);
        } catch (RuntimeException | Error e) {
            if (hookTimer != null) {
                hookTimer.close();
            }
            throw e;
        }
        Executor ex;
        try {
            EngineConfig c = setup.config();
            placement = MemoryPlacement.resolve(c.memory(), setup.cuda());
            String why = placement.why();
            if (!why.equals(LOGGED_PLACEMENT.getAndSet(why))) {
                LOG.info("KV memory: {}", why);
            } else {
                LOG.debug("KV memory: {}", why);
            }
            ex = new Executor(
                    c.model(),
                    c.workers(),
                    c.gpuBlocks() + 1,
                    c.blockSize(),
                    c.kvLayout(),
                    rank -> sides == null ? null : sides.workers().apply(rank),
                    c.verifyKv(),
                    c.eosRate(),
                    setup.copyFaults(),
                    name == null ? "none" : name,
                    hookTimer,
                    new HostMemoryBudget(c.hostMemoryBudget()),
                    placement);
        } catch (RuntimeException | Error e) {
            scheduler.shutdown();
            if (hookTimer != null) {
                hookTimer.close();
            }
            throw e;
        }
        this.executor = ex;
        // Before the first step, so a producer's addresses are known when its first request ends.
        scheduler.setHandshakeMetadata(ex.handshakeMetadata());
        this.metrics = new EngineMetrics();
        if (!recordEvents) {
            metrics.countEventsOf(pool);
        }
        // Last: nothing after it can fail and leave its thread running.
        this.kvEvents = setup.config()
                .kvEvents()
                .map(c -> KvEventPublisher.start(c, setup.config().workers()))
                .orElse(null);
    }

    /** Adds a request at the current time. */
    public void addRequest(String id, int[] prompt, int maxTokens) {
        addRequest(id, prompt, maxTokens, 0, TransferParams.empty(), Optional.empty());
    }

    /**
     * Adds a request at the current time, with every option. A request refused at once (too large
     * for the pool, or the connector's {@code onNewRequest} threw) is reported finished by the
     * next {@link #step()}.
     */
    public void addRequest(
            String id, int[] prompt, int maxTokens, int priority, TransferParams params, Optional<String> cacheSalt) {
        keepBetweenSteps(scheduler.addRequest(id, prompt, maxTokens, priority, params, cacheSalt));
        metrics.arrived(id, now, prompt.length);
        idle.reset();
    }

    /** Aborts a request (ignored if unknown or finished); the next {@link #step()} reports it finished. */
    public void abort(String id) {
        keepBetweenSteps(scheduler.abort(id));
    }

    private void keepBetweenSteps(RequestUpdates u) {
        if (!u.isEmpty()) {
            updatesBetweenSteps.add(u);
        }
    }

    /**
     * Declares that the caller never interrupts the engine thread to cancel a step, as the
     * product's own commands do not: from now on an interrupt of it, which can then only come from
     * a connector's own thread, is logged (rate-limited) and ignored, and a step waiting for its
     * workers goes on waiting. Without this call an interrupt cancels the step (see {@link
     * #step()}). Engine thread only.
     */
    public void ignoreStrayInterrupts() {
        ignoreStrayInterrupts = true;
        executor.ignoreStrayInterrupts();
    }

    /** Whether a step would do anything: requests, transfers, pending connector work, a step in flight. */
    public boolean hasWork() {
        return inFlight != null || scheduler.hasWork();
    }

    /**
     * Runs one step and returns what happened to requests: schedule, submit to the workers, collect
     * and apply. Under asynchronous scheduling a step with work is collected and applied in the
     * next call, so the workers run it while that call schedules the one after (the pipeline).
     * A step that did nothing (no work scheduled, no update) waits before it returns, so that an
     * engine stepped only for its connector's pending work does not spin a core: ever longer, up to
     * a millisecond, while no request waits; a fixed 200 µs while one does ({@link IdleBackoff}).
     * The wait is not charged to the modelled clock. A step that did work returns at once.
     *
     * @return the updates, in order; read them by index to make no object per sampled token. They
     *     may be lent (see {@link RequestUpdates}): readable until the next call of this method,
     *     and kept longer only through {@link RequestUpdates#keep()}
     * @throws InterruptedException if the calling thread is interrupted while the step waits for
     *     the workers (the caller cancelling): the step's results are lost, so the engine is only
     *     good for {@link #close()} then, which still stops its threads
     * @throws IllegalStateException if an earlier step was interrupted: applying later steps on
     *     top of the lost one would hand requests wrong tokens and leak its blocks
     */
    public RequestUpdates step() throws InterruptedException {
        if (ignoreStrayInterrupts && Thread.interrupted()) {
            Executor.strayInterrupt(); // reached the thread between steps
        }
        if (cancelled) {
            throw new IllegalStateException("a step of this engine was interrupted and its results are lost; the "
                    + "engine can only be closed now");
        }
        try {
            return stepOnce();
        } catch (InterruptedException e) {
            cancelled = true;
            throw e;
        }
    }

    private RequestUpdates stepOnce() throws InterruptedException {
        long t0 = System.nanoTime();
        // Usually one part: the applied step's outcome (an arrival's refusal or an abort adds one).
        List<RequestUpdates> parts = stepParts;
        parts.clear();
        parts.addAll(updatesBetweenSteps);
        updatesBetweenSteps.clear();

        // 1. Schedule.
        SchedulerOutput out = scheduler.schedule();
        long schedNanos = System.nanoTime() - t0;
        double modelled = modelledSeconds(out);

        // 2. Submit: the workers start at once.
        Executor.StepHandle submitted = executor.submit(out, (long) (modelled * 1e9));

        // 3. Collect and 4. apply.
        Applied applied = Applied.NOTHING;
        if (setup.config().scheduler().asyncScheduling() && out.hasWork()) {
            // Pipeline: apply the previous step's output while this one runs.
            if (inFlight != null) {
                applied = collectAndApply(inFlight, parts);
            }
            inFlight = submitted;
        } else {
            // Synchronous, or an empty step: nothing to overlap, so finish everything now (an
            // idle engine must not keep an empty step in flight forever).
            if (inFlight != null) {
                collectAndApply(inFlight, parts);
                inFlight = null;
            }
            applied = collectAndApply(submitted, parts);
        }
        schedNanos += applied.updateNanos();
        long compute = applied.computeNanos();
        // A hook may have failed under connector_errors: disable while this step was scheduled or
        // while a step was applied (a later outcome includes what an earlier one asked for).
        if (out.connectorDisableRequested() || applied.disableConnector()) {
            disableConnector(parts);
        }

        // The modelled clock, pacing and metrics.
        long wall = System.nanoTime() - t0;
        long chargedNanos = (long) (modelled * 1e9) + Math.max(0, wall - compute);
        now += chargedNanos / 1e9;
        if (out.hasWork() && paces()) {
            // Let wall time catch up with what the step models, so a connector's own threads get
            // the time the step stands for (see Pacing).
            long until = t0 + chargedNanos;
            for (long left = until - System.nanoTime(); left > 0; left = until - System.nanoTime()) {
                LockSupport.parkNanos(left);
            }
        }
        metrics.step(schedNanos, out, now, scheduler.stats());
        RequestUpdates updates = RequestUpdates.concat(parts);
        metrics.updates(updates, now);
        if (setup.checkInvariants()) {
            EngineInvariants.check(scheduler);
        }
        if (out.hasWork() || !updates.isEmpty()) {
            idle.reset();
        } else if (scheduler.hasRequests()) {
            idle.requestWaits();
        } else {
            idle.idle();
        }
        return updates;
    }

    private boolean paces() {
        return switch (setup.config().pacing()) {
            case OFF -> false;
            case ALWAYS -> true;
            case LOADS -> !scheduler.view().heldForReceiving().isEmpty();
        };
    }

    /** Finishes the step in flight, then detaches the connector: worker sides first, then the scheduler side. */
    private void disableConnector(List<RequestUpdates> updates) throws InterruptedException {
        if (inFlight != null) {
            collectAndApply(inFlight, updates);
            inFlight = null;
        }
        executor.disableConnector();
        scheduler.disableConnector();
    }

    /**
     * Collects step {@code h} from the workers and has the scheduler apply it; adds its request
     * updates to {@code updates}, judges its wrong KV reads and counts its events and stats.
     *
     * @return what applying the step took and whether the connector must be detached
     */
    private Applied collectAndApply(Executor.StepHandle h, List<RequestUpdates> updates) throws InterruptedException {
        ExecutorStepResult result = executor.collect(h);
        // A second apply in one step (the pipeline drained, a connector disabled) ends the first
        // one's lent updates: keep an owned copy of them first (rare; see RequestUpdates).
        updates.replaceAll(RequestUpdates::keep);
        long u0 = System.nanoTime();
        StepOutcome outcome = scheduler.update(h.output(), result.stepResult());
        long updateNanos = System.nanoTime() - u0;
        updates.add(outcome.updates());
        judgeWrongReads(result, outcome);
        metrics.events(outcome.events());
        if (kvEvents != null) {
            kvEvents.publish(outcome.events());
        }
        metrics.connectorStats(outcome.connectorStats());
        return new Applied(outcome.disableConnector(), updateNanos, result.computeNanos());
    }

    /**
     * What applying one step's result left for the rest of {@link #step()}.
     *
     * @param disableConnector whether the scheduler asked for the connector to be detached
     * @param updateNanos wall time of the scheduler's update, for the step-time metrics
     * @param computeNanos the workers' compute time of that step, for the modelled clock
     */
    private record Applied(boolean disableConnector, long updateNanos, long computeNanos) {
        /** No step was applied (the first step of an asynchronous pipeline). */
        static final Applied NOTHING = new Applied(false, 0, 0);
    }

    /**
     * A read of wrong KV matters only if its output is used: a failed load may be reported after
     * the step that read it, and the scheduler then discards that output, or holds it back until
     * the load can no longer be reported failed and tells later which it was.
     */
    private void judgeWrongReads(ExecutorStepResult result, StepOutcome outcome) {
        Set<String> discarded = outcome.discardedOutputs();
        Set<String> held = outcome.heldOutputs();
        for (KvMismatch m : result.mismatches()) {
            if (discarded.contains(m.requestId())) {
                LOG.debug("KV verification: {} (output discarded)", m);
            } else if (held.contains(m.requestId())) {
                LOG.debug("KV verification: {} (output held until its load settles)", m);
            } else {
                LOG.error("KV verification: {}", m);
            }
        }
        result.mismatchCounts().forEach((id, n) -> {
            if (discarded.contains(id)) {
                metrics.countDiscardedWrongReads(n);
            } else if (held.contains(id)) {
                heldMismatches.merge(id, n, MismatchCounts::plus);
            } else {
                metrics.countMismatches(n);
            }
        });
        for (HoldResolution r : outcome.holdResolutions()) {
            MismatchCounts n = heldMismatches.remove(r.requestId());
            if (n == null) {
                continue;
            }
            if (r.used()) {
                LOG.error("KV verification: request {} used output computed from wrong KV: {}", r.requestId(), n);
                metrics.countMismatches(n);
            } else {
                metrics.countDiscardedWrongReads(n);
            }
        }
    }

    /** The modelled GPU compute time of {@code out}'s work. */
    private double modelledSeconds(SchedulerOutput out) {
        long prefill = 0;
        int decode = 0;
        long context = 0;
        for (ScheduledWork w : out.work()) {
            if (w.decodes()) {
                decode++;
            } else {
                prefill += w.numTokens();
            }
            if (w.samples()) {
                context += w.start() + w.numTokens();
            }
        }
        return setup.config().cost().stepSeconds(prefill, decode, context);
    }

    /** Runs steps until nothing is left to do; returns every update. */
    public List<RequestUpdate> drain() throws InterruptedException {
        List<RequestUpdate> all = new ArrayList<>();
        while (hasWork()) {
            all.addAll(step());
        }
        return all;
    }

    /** Moves the modelled clock forward to {@code time} (an idle engine waiting for arrivals). */
    public void advanceTo(double time) {
        now = Math.max(now, time);
    }

    /** The modelled time in seconds since the engine started. */
    public double now() {
        return now;
    }

    /** The scheduler (for invariant checks and reports). */
    public Scheduler scheduler() {
        return scheduler;
    }

    /** The executor (for reports). */
    public Executor executor() {
        return executor;
    }

    /** Where the workers' KV caches live, and why: CUDA device memory, or host memory and why not CUDA. */
    public MemoryPlacement memoryPlacement() {
        return placement;
    }

    /** Metrics gathered so far. */
    public EngineMetrics metrics() {
        return metrics;
    }

    /** The setup. */
    public EngineSetup setup() {
        return setup;
    }

    /** Collects any step in flight, shuts the connector and the workers down. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (inFlight != null) {
                executor.collect(inFlight);
                inFlight = null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | ConnectorFatalError e) {
            LOG.error("The last step failed while closing", e);
        } finally {
            executor.close();
            scheduler.shutdown();
            if (hookTimer != null) {
                hookTimer.close();
            }
            if (kvEvents != null) {
                kvEvents.close(); // after the shutdown, so the connector's last events are published
            }
        }
    }

    /** The KV event publisher, if {@code kv_events} is set. */
    public Optional<KvEventPublisher> kvEventPublisher() {
        return Optional.ofNullable(kvEvents);
    }
}
