package io.kvconnect.core.engine.testconnector;

import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A connector for engine lifecycle tests that really moves KV: it saves every full computed block
 * into a host store keyed by block hash ({@link TestStore}), offers the longest stored prefix
 * beyond the local prefix hit, and loads it synchronously or asynchronously into the blocks the
 * engine allocated. Knobs ({@link TestConnectorConfig}) add delayed frees, failed loads, throwing
 * hooks, "ask later" answers and odd finished reports.
 *
 * <p>It uses only the connector API ({@link SchedulerConnector}, {@link WorkerConnector} and what
 * they hand out). Every hook call is recorded ({@link #calls()}); contract checks the connector
 * makes on what the engine shows it, and content problems its workers find, are collected in
 * {@link #problems()}, which a passing test expects empty.
 *
 * <p>Among the checks (see {@code TestSchedulerSide}): in every scheduler hook a request's
 * {@code numComputedTokens()} never exceeds the positions of steps whose output has been
 * processed (plus local hits and finished loads), and in {@code buildConnectorMetadata},
 * {@code numComputedTokens() + numOutputPlaceholders()} never exceeds the step's
 * {@code numComputedTokensBefore} — the seed-003 regression.
 */
public final class HostCacheTestConnector {
    /** The name the engine knows it by. */
    public static final String NAME = "test";

    private final TestConnectorConfig config;
    private final TestStore store;
    private final AtomicLong seq = new AtomicLong();
    private final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    private final TestSchedulerSide scheduler;
    private final Map<Integer, TestWorkerSide> workers = new ConcurrentHashMap<>();
    private volatile Consumer<Call> observer = call -> {};

    /** A connector with {@code config}. */
    public HostCacheTestConnector(TestConnectorConfig config) {
        this.config = config;
        this.store = new TestStore(config.hostSlots(), config.scratchSlots());
        this.scheduler = new TestSchedulerSide(this);
    }

    /** The scheduler side (one per engine). */
    public SchedulerConnector schedulerSide() {
        return scheduler;
    }

    /** The worker side of {@code rank} (created on first call). */
    public WorkerConnector workerSide(int rank) {
        return workers.computeIfAbsent(rank, r -> new TestWorkerSide(this, r));
    }

    /** The configuration. */
    public TestConnectorConfig config() {
        return config;
    }

    /** The shared host store. */
    public TestStore store() {
        return store;
    }

    /** Every recorded call, in order. */
    public List<Call> calls() {
        synchronized (calls) {
            return List.copyOf(calls);
        }
    }

    /** Recorded calls of {@code hook} (any side) for {@code requestId}. */
    public List<Call> calls(String hook, String requestId) {
        return calls().stream()
                .filter(c -> c.hook().equals(hook) && c.requestId().equals(requestId))
                .toList();
    }

    /** Recorded scheduler-side calls for {@code requestId}, in order. */
    public List<Call> schedulerCallsFor(String requestId) {
        return calls().stream()
                .filter(c -> c.side().equals("S") && c.requestId().equals(requestId))
                .toList();
    }

    /** How often {@code hook} was called for {@code requestId}. */
    public long count(String hook, String requestId) {
        return calls(hook, requestId).size();
    }

    /** Contract violations seen by the connector and content problems found by its workers. */
    public List<String> problems() {
        List<String> all;
        synchronized (problems) {
            all = new ArrayList<>(problems);
        }
        all.addAll(store.problems());
        return all;
    }

    /** Blocks whose save was confirmed by every rank. */
    public int storedBlocks() {
        return scheduler.storedBlocks();
    }

    /** Scheduler-side checks of {@code numComputedTokens()} made while placeholders were in flight. */
    public long placeholderChecks() {
        return scheduler.placeholderChecks();
    }

    /**
     * Saves planned for computed blocks whose hash was unknown when they were computed (positions
     * still in flight under asynchronous scheduling), made once {@code numComputedTokens()} covered
     * them.
     */
    public long confirmedSaves() {
        return scheduler.confirmedSaves();
    }

    /** Blocks compared with an earlier stored copy of the same hash (over all ranks). */
    public long verifiedBlocks() {
        return workers.values().stream()
                .mapToLong(TestWorkerSide::verifiedBlocks)
                .sum();
    }

    /**
     * Has {@code o} told of every call as it is recorded, on the thread that makes it (the engine
     * thread for the scheduler side, a worker thread for a worker side). Set before the engine starts.
     */
    public void observeCalls(Consumer<Call> o) {
        observer = o;
    }

    void log(String side, String hook, String requestId, long value) {
        Call call = new Call(seq.incrementAndGet(), side, hook, requestId == null ? "" : requestId, value);
        calls.add(call);
        observer.accept(call);
    }

    void problem(String what) {
        problems.add(what);
    }

    @Override
    public String toString() {
        return "HostCacheTestConnector[" + config.loadMode() + ", stored=" + storedBlocks() + "]";
    }
}
