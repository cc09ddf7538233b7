package io.kvconnect.core.sched;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.ConnectorBlockView;
import io.kvconnect.core.kv.KvCacheManager;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the engine stepping while the connector has work, and gives up what it makes no progress
 * on (the {@link ConnectorWatchdog} keeps the deadlines):
 * <ul>
 *   <li>{@link #hasWork()}: requests to run, transfers to finish, or the connector's pending work
 *       (the reference engine stops here and strands leases and final stores);</li>
 *   <li>{@link #check()}, once per step before it is planned: loads past their deadline fail
 *       ({@link LoadFailureRecovery#loadGivenUp}), sends past theirs free their blocks, and a
 *       connector that made no progress while nothing else was left has its GPU block references
 *       taken back (or, under {@code connector_errors: disable}, is detached);</li>
 *   <li>{@link #connectorDetached()}: a detached connector finishes nothing, so every transfer it
 *       still owes is given up at once.</li>
 * </ul>
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class ConnectorLiveness {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectorLiveness.class);

    private final SchedulerConfig config;
    private final ConnectorWatchdog watchdog;
    private final ConnectorCalls connector;
    private final ConnectorBlockView connectorView;
    private final KvCacheManager kv;
    private final RequestQueues queues;
    private final TransferBook transfers;
    private final LoadFailureRecovery recovery;
    private final StepClock clock;
    private final SchedulerStats stats;

    ConnectorLiveness(
            SchedulerConfig config,
            ConnectorWatchdog watchdog,
            ConnectorCalls connector,
            ConnectorBlockView connectorView,
            KvCacheManager kv,
            RequestQueues queues,
            TransferBook transfers,
            LoadFailureRecovery recovery,
            StepClock clock,
            SchedulerStats stats) {
        this.config = config;
        this.watchdog = watchdog;
        this.connector = connector;
        this.connectorView = connectorView;
        this.kv = kv;
        this.queues = queues;
        this.transfers = transfers;
        this.recovery = recovery;
        this.clock = clock;
        this.stats = stats;
    }

    /**
     * Whether the engine must keep stepping: requests to run, transfers to finish, or connector
     * work pending. Asks the connector's {@code hasPendingWork} only when nothing else is left.
     */
    boolean hasWork() {
        if (!onlyConnectorLeft()) {
            return true;
        }
        if (!connector.attached()) {
            return false;
        }
        // A failure (of this call or an earlier hook) may have asked to disable the connector: a
        // step must still run to detach it and return what it holds.
        if (connector.disableRequested()) {
            return true;
        }
        Boolean pending = connector.hasPendingWork();
        if (connector.disableRequested()) {
            return true; // the call itself failed
        }
        if (pending == null || !pending) {
            watchdog.pendingEnded();
            return false;
        }
        return !watchdog.givenUpAt(progressFingerprint());
    }

    /** Changes whenever the connector makes progress: a transfer reported finished, a reference taken or returned. */
    private long progressFingerprint() {
        return connectorView.totalHeld() * 1_000_003L + transfers.reports();
    }

    /** Whether nothing is left but what the connector itself may still do. */
    private boolean onlyConnectorLeft() {
        return !queues.hasRequests()
                && transfers.isEmpty()
                && queues.finishedSinceLastSchedule().isEmpty();
    }

    /**
     * Gives up what the connector made no progress on within the connector timeout: loads it
     * never finished (the request fails or is recomputed under the load failure policy), sends it
     * never finished (the blocks are freed), and, when nothing else is left, its pending work and
     * the GPU block references it holds (taken back under {@code fail_requests}; the connector is
     * disabled under {@code disable}). A block taken back is freed, which ends the connector's
     * grants on it (see {@link io.kvconnect.core.kv.BlockGrants}): no copy the connector queued
     * earlier touches it once it belongs to another request. Logged once per event, naming
     * the last worker hook that failed, if any.
     */
    void check() {
        if (!connector.attached()) {
            return;
        }
        List<String> receives = watchdog.expiredReceives();
        List<String> sends = watchdog.expiredSends();
        if (!receives.isEmpty() || !sends.isEmpty()) {
            LOG.error(
                    "Connector '{}' did not finish {} load(s) and {} send(s) within {} ms (requests {}){}; the "
                            + "engine gives them up",
                    connector.name(),
                    receives.size(),
                    sends.size(),
                    watchdog.timeoutNanos() / 1_000_000,
                    first(receives, sends),
                    connector.lastWorkerHookFailureNote());
            for (String id : receives) {
                giveUpReceive(id);
            }
            for (String id : sends) {
                giveUpSend(id);
            }
        }
        if (!onlyConnectorLeft()) {
            watchdog.notIdle();
            return;
        }
        if (!watchdog.idleStalled(progressFingerprint())) {
            return;
        }
        stats.connectorStalls++;
        long held = connectorView.totalHeld();
        if (config.connectorErrors() == ConnectorErrorPolicy.DISABLE) {
            LOG.error(
                    "Connector '{}' made no progress for {} ms while the engine had nothing else to do (it holds {} "
                            + "GPU block reference(s)){}; disabling it (connector_errors = disable)",
                    connector.name(),
                    watchdog.timeoutNanos() / 1_000_000,
                    held,
                    connector.lastWorkerHookFailureNote());
            connector.requestDisable();
            watchdog.gaveUp(progressFingerprint());
            return;
        }
        long reclaimed = connectorView.releaseAll();
        stats.reclaimedConnectorReferences += reclaimed;
        watchdog.gaveUp(progressFingerprint());
        LOG.error(
                "Connector '{}' made no progress for {} ms while the engine had nothing else to do{}; the engine "
                        + "took back its {} GPU block reference(s) and no longer steps for its pending work while idle, until "
                        + "it makes progress again; requests are served as before",
                connector.name(),
                watchdog.timeoutNanos() / 1_000_000,
                connector.lastWorkerHookFailureNote(),
                reclaimed);
    }

    private static String first(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all.size() <= 5 ? all.toString() : all.subList(0, 5) + " and " + (all.size() - 5) + " more";
    }

    /** The engine stops waiting for {@code id}'s load. */
    private void giveUpReceive(String id) {
        Request r = queues.require(id);
        transfers.stopAwaitingReceive(id);
        stats.transfersGivenUp++;
        transfers.endLoads(id);
        if (r.status().isFinished()) {
            queues.releaseIfUnheld(r);
            return;
        }
        recovery.loadGivenUp(
                r,
                "connector '" + connector.name() + "' did not finish loading its KV within "
                        + watchdog.timeoutNanos() / 1_000_000 + " ms (policy fail)");
    }

    /** The engine stops waiting for {@code id}'s send and frees its blocks. */
    private void giveUpSend(String id) {
        transfers.stopAwaitingSend(id);
        stats.transfersGivenUp++;
        queues.releaseIfUnheld(queues.require(id));
    }

    /**
     * The connector was detached (after every worker side was shut down, so no copy still uses a
     * block): blocks held for its sends are released, and requests waiting for its loads start
     * over without it (a request whose load finished keeps it; a finished one frees its blocks).
     */
    void connectorDetached() {
        for (String id : List.copyOf(transfers.awaitedSends())) {
            transfers.stopAwaitingSend(id);
            queues.releaseIfUnheld(queues.require(id));
        }
        for (String id : List.copyOf(transfers.awaitedReceives())) {
            transfers.stopAwaitingReceive(id);
            transfers.endLoads(id);
            transfers.takeFailedLoad(id);
            Request r = queues.require(id);
            if (r.status().isFinished()) {
                queues.releaseIfUnheld(r);
            } else {
                // Its load will never be reported: compute it locally instead.
                kv.free(id);
                r.resetComputed(clock.current());
                r.setStatus(r.numPreemptions() > 0 ? RequestStatus.PREEMPTED : RequestStatus.WAITING);
            }
        }
    }
}
