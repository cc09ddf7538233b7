package io.kvconnect.core.sched;

/**
 * Counters the scheduler keeps for the run report. Scheduler thread only; read at the end or
 * between steps.
 */
public final class SchedulerStats {
    long steps;
    long prefixQueries;
    long prefixHits;
    long connectorQueries;
    long connectorHits;
    long connectorAsyncLoads;
    long preemptions;
    long loadFailures;
    long requestsRecomputed;
    long requestsFailed;
    long requestsAborted;
    long hookFailures;
    long leakedConnectorReferences;
    boolean connectorDisabled;

    /** Steps scheduled. */
    public long steps() {
        return steps;
    }

    /** Tokens looked up in the GPU prefix cache (requests admitted). */
    public long prefixQueries() {
        return prefixQueries;
    }

    /** Of those, tokens found. */
    public long prefixHits() {
        return prefixHits;
    }

    /** Tokens asked of the connector (beyond the local hit). */
    public long connectorQueries() {
        return connectorQueries;
    }

    /** Tokens the connector provided. */
    public long connectorHits() {
        return connectorHits;
    }

    /** Requests that waited for an asynchronous load. */
    public long connectorAsyncLoads() {
        return connectorAsyncLoads;
    }

    /** Preemptions by recomputation. */
    public long preemptions() {
        return preemptions;
    }

    /** Requests hit by failed loads. */
    public long loadFailures() {
        return loadFailures;
    }

    /** Requests that recomputed after a failed load. */
    public long requestsRecomputed() {
        return requestsRecomputed;
    }

    /** Requests finished with an error. */
    public long requestsFailed() {
        return requestsFailed;
    }

    /** Requests aborted. */
    public long requestsAborted() {
        return requestsAborted;
    }

    /** Connector hooks that threw. */
    public long hookFailures() {
        return hookFailures;
    }

    /** Whether the connector was disabled after a hook failure. */
    public boolean connectorDisabled() {
        return connectorDisabled;
    }

    /** Block references a connector still held at shutdown (returned by the engine). */
    public long leakedConnectorReferences() {
        return leakedConnectorReferences;
    }
}
