package io.kvconnect.core.sched;

/**
 * Every connector hook the engine calls, on the scheduler side ({@code SchedulerConnector}) and on
 * the worker side ({@code WorkerConnector}); {@code shutdown} exists on both. The engine names a
 * hook by its constant, never by a string, so the name in a failure's reason, a log line or a fatal
 * error is always the API method's name ({@link #toString()}).
 *
 * <p>A hook knows whether its failure may have left a step's loads incomplete ({@link
 * #affectsLoads()}): the scheduler then fails every request that loaded in that step, since its
 * KV cannot be trusted.
 */
public enum ConnectorHook {
    // ---- scheduler side
    BIND_SCHEDULER_STATE("bindSchedulerState", false),
    SET_HANDSHAKE_METADATA("setHandshakeMetadata", false),
    EXPECTED_FINISHED_COUNT("expectedFinishedCount", false),
    ON_NEW_REQUEST("onNewRequest", false),
    GET_NUM_NEW_MATCHED_TOKENS("getNumNewMatchedTokens", false),
    UPDATE_STATE_AFTER_ALLOC("updateStateAfterAlloc", false),
    BUILD_CONNECTOR_METADATA("buildConnectorMetadata", false),
    UPDATE_CONNECTOR_OUTPUT("updateConnectorOutput", false),
    REQUEST_FINISHED("requestFinished", false),
    HAS_PENDING_WORK("hasPendingWork", false),
    TAKE_EVENTS("takeEvents", false),
    TAKE_STATS("takeStats", false),

    // ---- both sides
    SHUTDOWN("shutdown", false),

    // ---- worker side, in the order of a step
    REGISTER_KV_CACHES("registerKvCaches", false),
    HANDSHAKE_METADATA("handshakeMetadata", false),
    HANDLE_PREEMPTIONS("handlePreemptions", true),
    BIND_CONNECTOR_METADATA("bindConnectorMetadata", true),
    START_LOAD_KV("startLoadKv", true),
    WAIT_FOR_LAYER_LOAD("waitForLayerLoad", true),
    SAVE_KV_LAYER("saveKvLayer", false),
    WAIT_FOR_SAVE("waitForSave", false),
    REPORT_STEP("reportStep", true),
    CLEAR_CONNECTOR_METADATA("clearConnectorMetadata", false);

    private final String methodName;
    private final boolean affectsLoads;
    private final String failureLogKind;

    ConnectorHook(String methodName, boolean affectsLoads) {
        this.methodName = methodName;
        this.affectsLoads = affectsLoads;
        // One constant kind per hook for the rate-limited failure log, built once.
        this.failureLogKind = "hook-failed-" + methodName;
    }

    /**
     * Whether a failure of this hook may have left the step's loads incomplete: the worker side
     * did not learn of them ({@code handlePreemptions}, {@code bindConnectorMetadata}), did not
     * start or finish them ({@code startLoadKv}, {@code waitForLayerLoad}), or could not report
     * which failed ({@code reportStep}, whose report carries the step's load errors).
     */
    public boolean affectsLoads() {
        return affectsLoads;
    }

    /** The kind of the rate-limited log line about a failure of this hook. */
    public String failureLogKind() {
        return failureLogKind;
    }

    /** The API method's name, as every message names the hook. */
    @Override
    public String toString() {
        return methodName;
    }
}
