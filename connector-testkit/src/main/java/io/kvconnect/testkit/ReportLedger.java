package io.kvconnect.testkit;

import io.kvconnect.api.worker.WorkerStepReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the connector's scheduler side started and what each worker reported of it, so that the kit
 * can check every {@link WorkerStepReport} against the contract: a worker reports a request in
 * finished receives only for an asynchronous load the engine granted it, and in finished sends
 * only for a request whose free the scheduler side delayed; and each at most once per rank and
 * transfer. The scheduler side's decorator records ({@link CountingSchedulerConnector}), each
 * worker's decorator checks ({@link CheckingWorkerConnector}).
 *
 * <p>Thread-safe: the scheduler side records on the engine thread, workers check on theirs. A
 * grant is recorded before the step that carries it is submitted to the workers, so a worker never
 * sees a transfer the ledger does not know yet.
 */
final class ReportLedger {
    /** Enough to diagnose; a connector that gets it wrong usually gets it wrong every step. */
    private static final int MAX_PROBLEMS = 20;

    /** Request id to the asynchronous loads granted to it. */
    private final Map<String, Integer> asyncLoads = new ConcurrentHashMap<>();
    /** Request id to the delayed frees of it (at most one: a request finishes once). */
    private final Map<String, Integer> delayedFrees = new ConcurrentHashMap<>();
    /** {@code rank + "/" + request id} to that rank's reports of the request in finished receives. */
    private final Map<String, Integer> received = new ConcurrentHashMap<>();
    /** {@code rank + "/" + request id} to that rank's reports of the request in finished sends. */
    private final Map<String, Integer> sent = new ConcurrentHashMap<>();

    private final List<String> problems = new ArrayList<>();

    /** The engine granted {@code requestId} an asynchronous load (engine thread). */
    void asyncLoadGranted(String requestId) {
        asyncLoads.merge(requestId, 1, Integer::sum);
    }

    /** The scheduler side delayed the free of {@code requestId} (engine thread). */
    void freeDelayed(String requestId) {
        delayedFrees.merge(requestId, 1, Integer::sum);
    }

    /** Checks worker {@code rank}'s report of one step (that worker's thread). */
    void check(int rank, WorkerStepReport report) {
        for (String id : report.finishedReceiving()) {
            int reported = received.merge(rank + "/" + id, 1, Integer::sum);
            int granted = asyncLoads.getOrDefault(id, 0);
            if (reported > granted) {
                problem(
                        granted == 0
                                ? "worker " + rank + " reported request " + id
                                        + " in finished receives, but the engine " + "granted it no asynchronous load"
                                : "worker " + rank + " reported request " + id + " in finished receives " + reported
                                        + " times for " + granted + " asynchronous load(s)");
            }
        }
        for (String id : report.finishedSending()) {
            int reported = sent.merge(rank + "/" + id, 1, Integer::sum);
            int delayed = delayedFrees.getOrDefault(id, 0);
            if (reported > delayed) {
                problem(
                        delayed == 0
                                ? "worker " + rank + " reported request " + id
                                        + " in finished sends, but requestFinished " + "did not delay its free"
                                : "worker " + rank + " reported request " + id + " in finished sends " + reported
                                        + " times");
            }
        }
        for (int block : report.invalidBlockIds()) {
            if (block < 1) {
                problem("worker " + rank + " reported block " + block + " as a failed load: block ids start at 1 "
                        + "(0 is the engine's null block, never loaded)");
            }
        }
    }

    /** What the reports got wrong so far, at most {@value #MAX_PROBLEMS}. */
    List<String> problems() {
        synchronized (problems) {
            return List.copyOf(problems);
        }
    }

    private void problem(String p) {
        synchronized (problems) {
            if (problems.size() < MAX_PROBLEMS) {
                problems.add(p);
            }
        }
    }
}
