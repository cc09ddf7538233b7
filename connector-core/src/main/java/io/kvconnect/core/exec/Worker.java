package io.kvconnect.core.exec;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.worker.FinishedTransfers;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.core.memory.EngineBlockCopyService;
import io.kvconnect.core.memory.KvMemory;
import io.kvconnect.core.model.ModelRunner;
import io.kvconnect.core.sched.SchedulerOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tensor-parallel worker: its own thread, KV memory, copy service, verifying model and
 * worker-side connector. Steps run on the worker thread strictly in submission order, which is
 * what makes asynchronous scheduling safe: step N's writes precede step N+1's.
 *
 * <p>Worker-side connector hooks are called in the order the API documents; an exception from one
 * is recorded as a {@link HookFailure} and the step goes on (the executor decides what it means
 * for the step's requests).
 */
final class Worker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

    private final int rank;
    private final KvMemory memory;
    private final EngineBlockCopyService copies;
    private final ModelRunner runner;
    /** The worker side, or {@code null}; only this worker's thread reads or changes it. */
    private WorkerConnector connector;
    private final AllReduce allReduce;
    private final ExecutorService thread;
    /** The connector's handshake metadata, set on the worker thread by {@link #register()}. */
    private volatile Optional<WorkerMetadata> handshake = Optional.empty();

    Worker(int rank, KvMemory memory, EngineBlockCopyService copies, WorkerConnector connector, AllReduce allReduce,
           boolean verify, double eosRate) {
        this.rank = rank;
        this.memory = memory;
        this.copies = copies;
        this.connector = connector;
        this.allReduce = allReduce;
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
            if (connector == null) {
                return Optional.empty();
            }
            try {
                connector.registerKvCaches(memory.layout(), copies);
                handshake = connector.handshakeMetadata();
                return Optional.empty();
            } catch (RuntimeException | LinkageError e) {
                return Optional.of(e);
            }
        });
    }

    /** The connector's handshake metadata; valid once {@link #register()} completed. */
    Optional<WorkerMetadata> handshakeMetadata() {
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
        List<HookFailure> failures = new ArrayList<>();
        ConnectorMetadata meta = out.connectorMetadata();
        if (out.revokesBlocks()) {
            // Before any hook of this step: the blocks may belong to another request now.
            copies.revoke(out.revokedBlocks());
        }
        if (connector != null) {
            hook(failures, "handlePreemptions", () -> connector.handlePreemptions(meta));
            hook(failures, "bindConnectorMetadata", () -> connector.bindConnectorMetadata(meta));
            hook(failures, "startLoadKv", connector::startLoadKv);
        }
        long computeNanos = 0;
        Map<String, Integer> sampled = Map.of();
        if (out.hasWork()) {
            runner.beginStep(out);
            for (int layer = 0; layer < runner.numLayers(); layer++) {
                int l = layer;
                if (connector != null) {
                    hook(failures, "waitForLayerLoad", () -> connector.waitForLayerLoad(l));
                }
                long t0 = System.nanoTime();
                runner.computeLayer(layer);
                computeNanos += System.nanoTime() - t0;
                if (connector != null) {
                    hook(failures, "saveKvLayer", () -> connector.saveKvLayer(l));
                }
            }
            runner.endCompute();
            // On a GPU the copy engine works while the step computes. Our compute takes far less
            // wall time than the modelled cost it stands for, so give the copy stream the rest of
            // the modelled window to finish what is queued (loads of this step, stores of earlier
            // ones); the wait is covered by the modelled cost, so it is not charged again.
            computeNanos += copies.awaitQueued(computeWindowNanos - computeNanos);
            if (connector != null) {
                hook(failures, "waitForSave", connector::waitForSave);
            }
            long t0 = System.nanoTime();
            long[] summed = allReduce.sum(rank, runner.partialDigests());
            sampled = runner.sample(summed);
            computeNanos += System.nanoTime() - t0;
        } else {
            runner.beginStep(out);
        }
        ConnectorOutput co = connector == null ? null : connectorOutput(out.finishedRequestIds(), failures);
        return new WorkerStepResult(rank, sampled, co, failures, runner.takeMismatches(),
                runner.takeMismatchCounts(), computeNanos);
    }

    private ConnectorOutput connectorOutput(Set<String> finished, List<HookFailure> failures) {
        FinishedTransfers ft = call(failures, "getFinished", () -> connector.getFinished(finished));
        Set<Integer> invalid = call(failures, "getBlockIdsWithLoadErrors", connector::getBlockIdsWithLoadErrors);
        Optional<ConnectorStats> stats = call(failures, "takeStats", connector::takeStats);
        List<KvEvent> events = call(failures, "takeEvents", connector::takeEvents);
        Optional<WorkerMetadata> meta = call(failures, "buildWorkerMetadata", connector::buildWorkerMetadata);
        hook(failures, "clearConnectorMetadata", connector::clearConnectorMetadata);
        return new ConnectorOutput(
                ft == null ? Set.of() : ft.sending(),
                ft == null ? Set.of() : ft.receiving(),
                invalid == null ? Set.of() : invalid,
                stats == null ? Optional.empty() : stats,
                events == null ? List.of() : events,
                meta == null ? Optional.empty() : meta);
    }

    private void hook(List<HookFailure> failures, String name, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException | LinkageError e) {
            failed(failures, name, e);
        }
    }

    private <T> T call(List<HookFailure> failures, String name, Supplier<T> call) {
        try {
            T value = call.get();
            if (value == null) {
                throw new NullPointerException(name + " returned null");
            }
            return value;
        } catch (RuntimeException | LinkageError e) {
            failed(failures, name, e);
            return null;
        }
    }

    private void failed(List<HookFailure> failures, String name, Throwable e) {
        LOG.error("Worker {}: connector hook {} threw; the engine contains it and goes on", rank, name, e);
        failures.add(new HookFailure(rank, name, e));
    }

    /** Shuts the worker side down and detaches it, on the worker thread after every queued step. */
    Future<?> disableConnector() {
        return thread.submit(() -> {
            WorkerConnector c = connector;
            connector = null;
            if (c != null) {
                try {
                    c.shutdown();
                } catch (RuntimeException | LinkageError e) {
                    LOG.error("Worker {}: connector shutdown threw", rank, e);
                }
            }
        });
    }

    /** Counters of the model runner, read after the worker stopped or between steps. */
    ModelRunner runner() {
        return runner;
    }

    EngineBlockCopyService copies() {
        return copies;
    }

    /** Shuts the connector down on the worker thread, then stops the thread and frees the memory. */
    @Override
    public void close() {
        try {
            if (connector != null) {
                thread.submit(() -> {
                    try {
                        connector.shutdown();
                    } catch (RuntimeException | LinkageError e) {
                        LOG.error("Worker {}: connector shutdown threw", rank, e);
                    }
                }).get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.error("Worker {}: shutdown failed", rank, e.getCause());
        } finally {
            thread.shutdownNow();
            copies.close();
            memory.close();
        }
    }
}
