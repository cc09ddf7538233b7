package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.core.kv.BlockHasher;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.KvCacheManager;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The one call site of the scheduler side: contained failures, their count and the disable policy. */
class ConnectorCallsTest {
    private final SchedulerStats stats = new SchedulerStats();
    private final ScriptedConnector connector = new ScriptedConnector();
    private ConnectorCalls calls;
    private final Request request = new Request(
            "r",
            Parts.prompt(8),
            4,
            0,
            0,
            TransferParams.empty(),
            Optional.empty(),
            new BlockHasher(4),
            new KvCacheManager(new BlockPool(8, 4, true)));

    private ConnectorCalls calls(ConnectorErrorPolicy policy) {
        calls = new ConnectorCalls(connector, "scripted", Parts.config().withConnectorErrors(policy), null, stats);
        return calls;
    }

    @AfterEach
    void stopTheTimer() {
        if (calls != null) {
            calls.shutdown();
        }
    }

    @Test
    void aThrowingHookGivesTheFailureValueIsCountedAndNamedInTheReason() {
        ConnectorCalls c = calls(ConnectorErrorPolicy.FAIL_REQUESTS);
        connector.throwing.add(ConnectorHook.GET_NUM_NEW_MATCHED_TOKENS);
        connector.throwing.add(ConnectorHook.ON_NEW_REQUEST);

        assertNull(c.getNumNewMatchedTokens(request, 0));
        assertFalse(c.onNewRequest(request));

        assertEquals(2, stats.hookFailures());
        assertEquals(
                "connector 'scripted' failed in getNumNewMatchedTokens: java.lang.IllegalStateException: "
                        + "onNewRequest broke",
                c.failureReason(ConnectorHook.GET_NUM_NEW_MATCHED_TOKENS),
                "the reason names the hook asked about and the last failure");
        assertFalse(c.disableRequested(), "fail_requests never detaches the connector");
    }

    @Test
    void aHookReturningNullFailsLikeOneThatThrows() {
        ConnectorCalls c = calls(ConnectorErrorPolicy.FAIL_REQUESTS);
        connector.offer = r -> null;

        assertNull(c.getNumNewMatchedTokens(request, 0));
        assertEquals(1, stats.hookFailures());
    }

    @Test
    void callsThatSucceedPassTheConnectorsAnswersThrough() {
        ConnectorCalls c = calls(ConnectorErrorPolicy.FAIL_REQUESTS);
        connector.offer = r -> MatchResult.async(8);
        connector.expectedFinishedCount = OptionalInt.of(1);

        assertEquals(MatchResult.async(8), c.getNumNewMatchedTokens(request, 4));
        assertTrue(c.updateStateAfterAlloc(request, BlockIds.of(1, 2), 0, 8));
        assertEquals(OptionalInt.of(1), c.expectedFinishedCount());
        assertEquals(
                List.of("getNumNewMatchedTokens r", "updateStateAfterAlloc r 8", "expectedFinishedCount"),
                connector.calls);
        assertEquals(0, stats.hookFailures());
    }

    @Test
    void underDisableAFailureOnEitherSideAsksToDetachTheConnector() {
        ConnectorCalls c = calls(ConnectorErrorPolicy.DISABLE);
        connector.throwing.add(ConnectorHook.TAKE_STATS);

        assertNull(c.takeStats());
        assertTrue(c.disableRequested());

        ConnectorCalls workers = new ConnectorCalls(
                connector,
                "scripted",
                Parts.config().withConnectorErrors(ConnectorErrorPolicy.DISABLE),
                null,
                new SchedulerStats());
        workers.workerHooksFailed(2, "worker 1 connector hook startLoadKv failed: x in step 3");
        assertTrue(workers.disableRequested());
        assertEquals(
                " after worker 1 connector hook startLoadKv failed: x in step 3", workers.lastWorkerHookFailureNote());
        workers.shutdown();
    }

    @Test
    void workerHookFailuresAreCountedLikeTheSchedulersOwn() {
        ConnectorCalls c = calls(ConnectorErrorPolicy.FAIL_REQUESTS);

        c.workerHooksFailed(3, "first");
        c.workerHooksFailed(0, null);

        assertEquals(3, stats.hookFailures());
        assertFalse(c.disableRequested());
    }

    @Test
    void detachingShutsTheConnectorDownOnceAndEndsTheRequestToDisable() {
        ConnectorCalls c = calls(ConnectorErrorPolicy.DISABLE);
        c.requestDisable();

        assertTrue(c.detach());
        assertFalse(c.detach(), "only once");
        c.shutdown();

        assertFalse(c.attached());
        assertFalse(c.disableRequested(), "nothing left to detach");
        assertTrue(stats.connectorDisabled());
        assertEquals(List.of("shutdown"), connector.callsOf(ConnectorHook.SHUTDOWN));
    }

    @Test
    void withoutAConnectorNothingIsAttachedAndWorkerFailuresAreNotCounted() {
        ConnectorCalls none = new ConnectorCalls(null, null, Parts.config(), null, stats);

        none.workerHooksFailed(2, "x");

        assertFalse(none.attached());
        assertEquals("none", none.name());
        assertEquals(0, stats.hookFailures());
        assertFalse(none.detach());
        none.shutdown();
    }

    @Test
    void heapExhaustionInAHookStopsTheEngineNamingTheHook() {
        ConnectorCalls c = calls(ConnectorErrorPolicy.FAIL_REQUESTS);
        connector.offer = r -> {
            throw new OutOfMemoryError("test");
        };

        ConnectorFatalError e = assertThrows(ConnectorFatalError.class, () -> c.getNumNewMatchedTokens(request, 0));

        assertEquals("getNumNewMatchedTokens", e.hook());
        assertEquals("the scheduler", e.where());
    }
}
