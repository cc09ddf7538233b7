package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.kv.PrefixHit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stepping for the connector's work, and giving up what it makes no progress on. */
class ConnectorLivenessTest {
    private static final long TIMEOUT = Parts.CONNECTOR_TIMEOUT.toNanos();

    /** A block cached by a request that finished, which the connector keeps a reference to. */
    private static int cachedBlockTheConnectorHolds(Parts p) {
        Request seed = p.request("seed", 4, 1);
        p.kv.allocate("seed", 4, PrefixHit.NONE);
        seed.setScheduledThrough(4);
        seed.confirmThrough(4);
        p.kv.cacheUpTo(seed, 4);
        int block = p.kv.blockAt("seed", 0);
        p.kv.free("seed");
        p.connectorView.touch(block);
        return block;
    }

    @Test
    void requestsOrTransfersAreWorkWithoutAskingTheConnector() {
        ScriptedConnector connector = new ScriptedConnector();
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            p.arrive("r", 4, 1);
            assertTrue(p.liveness.hasWork());
            p.queues.waiting().clear();
            p.transfers.awaitSend("gone");
            assertTrue(p.liveness.hasWork());

            assertEquals(List.of(), connector.callsOf(ConnectorHook.HAS_PENDING_WORK));
        }
    }

    @Test
    void whenNothingElseIsLeftTheConnectorsPendingWorkDecides() {
        ScriptedConnector connector = new ScriptedConnector();
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            connector.pendingWork = true;
            assertTrue(p.liveness.hasWork());
            connector.pendingWork = false;
            assertFalse(p.liveness.hasWork());
        }
        try (Parts none = new Parts(Parts.config(), 16, null)) {
            assertFalse(none.liveness.hasWork());
        }
    }

    @Test
    void underDisableAFailingPendingWorkCallKeepsSteppingSoTheConnectorCanBeDetached() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.throwing.add(ConnectorHook.HAS_PENDING_WORK);
        try (Parts p = new Parts(Parts.config().withConnectorErrors(ConnectorErrorPolicy.DISABLE), 16, connector)) {
            assertTrue(p.liveness.hasWork());
            assertTrue(p.calls.disableRequested());
        }
    }

    @Test
    void aLoadPastItsDeadlineFailsItsRequestUnderPolicyFail() {
        ScriptedConnector connector = new ScriptedConnector();
        try (Parts p = new Parts(Parts.config().withLoadFailurePolicy(LoadFailurePolicy.FAIL), 16, connector)) {
            Request r = p.arrive("r", 12, 4);
            p.kv.allocate("r", 8, PrefixHit.NONE);
            r.setStatus(RequestStatus.WAITING_FOR_REMOTE_KV);
            p.transfers.awaitReceive("r");
            p.transfers.grantLoad("r", 0, 8);

            p.liveness.check();
            assertFalse(r.status().isFinished(), "not yet past the deadline");
            p.now = TIMEOUT;
            p.liveness.check();

            assertEquals(RequestStatus.FINISHED_ERROR, r.status());
            assertEquals(
                    "connector 'scripted' did not finish loading its KV within 10000 ms (policy fail)",
                    ((RequestUpdate.Finished) p.outbox.takeUpdates().getFirst()).reason());
            assertFalse(p.transfers.awaitingReceive("r"));
            assertFalse(p.kv.owns("r"), "nothing holds its blocks any more");
            assertEquals(1, p.stats.transfersGivenUp());
        }
    }

    @Test
    void aSendPastItsDeadlineFreesTheBlocks() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.delayFree = true;
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            Request r = p.arrive("r", 8, 4);
            p.kv.allocate("r", 8, PrefixHit.NONE);
            p.queues.finish(r, RequestStatus.FINISHED_ABORTED, "aborted");
            assertTrue(p.kv.owns("r"));

            p.now = TIMEOUT;
            p.liveness.check();

            assertFalse(p.kv.owns("r"));
            assertEquals(1, p.stats.transfersGivenUp());
        }
    }

    @Test
    void aConnectorIdleWithoutProgressLosesItsReferencesAndIsNoLongerSteppedFor() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.pendingWork = true;
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            int block = cachedBlockTheConnectorHolds(p);

            p.liveness.check();
            p.now = TIMEOUT;
            p.liveness.check();

            assertEquals(0, p.connectorView.heldReferences(block));
            assertEquals(1, p.stats.reclaimedConnectorReferences());
            assertEquals(1, p.stats.connectorStalls());
            assertFalse(p.liveness.hasWork(), "no progress since: the engine does not step for it");
            assertFalse(p.calls.disableRequested());
        }
    }

    @Test
    void underDisableAnIdleConnectorWithoutProgressIsDetachedInstead() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.pendingWork = true;
        try (Parts p = new Parts(Parts.config().withConnectorErrors(ConnectorErrorPolicy.DISABLE), 16, connector)) {
            int block = cachedBlockTheConnectorHolds(p);

            p.liveness.check();
            p.now = TIMEOUT;
            p.liveness.check();

            assertTrue(p.calls.disableRequested());
            assertEquals(1, p.connectorView.heldReferences(block), "taken back when it is detached");
        }
    }

    @Test
    void progressRestartsTheWait() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.pendingWork = true;
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            int block = cachedBlockTheConnectorHolds(p);
            p.liveness.check();
            p.now = TIMEOUT / 2;
            p.connectorView.free(block);
            p.liveness.check();

            p.now = TIMEOUT;
            p.liveness.check();

            assertEquals(0, p.stats.connectorStalls(), "it returned a reference half way");
        }
    }

    @Test
    void aDetachedConnectorsTransfersAreGivenUpAndItsLoadsComputedLocally() {
        ScriptedConnector connector = new ScriptedConnector();
        connector.delayFree = true;
        try (Parts p = new Parts(Parts.config(), 16, connector)) {
            p.clock.next();
            Request sending = p.arrive("sending", 8, 4);
            p.kv.allocate("sending", 8, PrefixHit.NONE);
            p.queues.finish(sending, RequestStatus.FINISHED_ABORTED, "aborted");
            Request loading = p.arrive("loading", 12, 4);
            p.kv.allocate("loading", 8, PrefixHit.NONE);
            loading.setScheduledThrough(8);
            loading.setStatus(RequestStatus.WAITING_FOR_REMOTE_KV);
            p.transfers.awaitReceive("loading");
            p.transfers.grantLoad("loading", 0, 8);
            int target = p.kv.blockAt("loading", 0);

            p.calls.detach();
            p.liveness.connectorDetached();

            assertFalse(p.kv.owns("sending"), "its send will never be reported");
            assertEquals(RequestStatus.WAITING, loading.status());
            assertEquals(0, loading.scheduledThrough(), "it computes everything itself");
            assertFalse(p.kv.owns("loading"));
            assertFalse(p.pool.grants().writable(target));
            assertTrue(p.transfers.isEmpty());
        }
    }
}
