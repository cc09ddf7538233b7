package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The hooks' names as messages show them, and which failures may break a step's loads. */
class ConnectorHookTest {
    @Test
    void exactlyTheHooksThatStartFinishOrReportLoadsAffectLoads() {
        Set<ConnectorHook> affecting = EnumSet.noneOf(ConnectorHook.class);
        for (ConnectorHook h : ConnectorHook.values()) {
            if (h.affectsLoads()) {
                affecting.add(h);
            }
        }

        assertEquals(
                EnumSet.of(
                        ConnectorHook.HANDLE_PREEMPTIONS,
                        ConnectorHook.BIND_CONNECTOR_METADATA,
                        ConnectorHook.START_LOAD_KV,
                        ConnectorHook.WAIT_FOR_LAYER_LOAD,
                        ConnectorHook.REPORT_STEP),
                affecting);
    }

    @Test
    void aHookIsNamedByItsApiMethodInMessagesAndLogKinds() {
        assertEquals("getNumNewMatchedTokens", ConnectorHook.GET_NUM_NEW_MATCHED_TOKENS.toString());
        assertEquals("reportStep", ConnectorHook.REPORT_STEP.toString());
        assertEquals(
                "worker 1 connector hook startLoadKv failed: java.lang.IllegalStateException: x",
                new HookFailure(1, ConnectorHook.START_LOAD_KV, new IllegalStateException("x")).toString());
        assertEquals("hook-failed-shutdown", ConnectorHook.SHUTDOWN.failureLogKind());
    }

    @Test
    void everyConstantIsTheUpperSnakeCaseOfItsMethodName() {
        for (ConnectorHook h : ConnectorHook.values()) {
            assertEquals(
                    h.name(), h.toString().replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(), h.name());
        }
    }
}
