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
    long lateLoadFailureReports;
    long ignoredInvalidBlocks;
    long ignoredInvalidBlocksUncached;
    long loadsRefusedAfterFailure;
    long heldOutputsReleased;
    long heldOutputsDropped;
    long transfersGivenUp;
    long connectorStalls;
    long reclaimedConnectorReferences;
    long requestsRefused;
    long duplicateFinishedReports;
    long lateFinishedReports;
    long unknownFinishedReports;

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

    /**
     * Load failures reported after the load failure window: the engine still evicted and
     * recomputed or failed everything computed from the failed blocks, but tokens emitted before
     * the report could not be recalled (a connector that breaks the reporting contract).
     */
    public long lateLoadFailureReports() {
        return lateLoadFailureReports;
    }

    /**
     * Blocks a connector reported invalid that no load a report can still be about wrote: the
     * load's request finished, freed the blocks (they may be another request's by now) or computed
     * them again, or no load targeted them at all. Ignored: no request is blamed for them.
     */
    public long ignoredInvalidBlocks() {
        return ignoredInvalidBlocks;
    }

    /**
     * Of {@link #ignoredInvalidBlocks()}, those no request held that were dropped from the prefix
     * cache, in case the report was true and came too late: no later request hits them.
     */
    public long ignoredInvalidBlocksUncached() {
        return ignoredInvalidBlocksUncached;
    }

    /** External loads offered to a request whose earlier load failed, and not taken (loop bound). */
    public long loadsRefusedAfterFailure() {
        return loadsRefusedAfterFailure;
    }

    /** Requests whose outputs were held until their loads settled, then released. */
    public long heldOutputsReleased() {
        return heldOutputsReleased;
    }

    /** Requests whose held outputs were dropped (a late load failure, an abort, a preemption). */
    public long heldOutputsDropped() {
        return heldOutputsDropped;
    }

    /** Loads and sends the engine stopped waiting for after the connector timeout. */
    public long transfersGivenUp() {
        return transfersGivenUp;
    }

    /** Times the connector made no progress for the connector timeout while nothing else ran. */
    public long connectorStalls() {
        return connectorStalls;
    }

    /** GPU block references the engine took back from a stalled connector. */
    public long reclaimedConnectorReferences() {
        return reclaimedConnectorReferences;
    }

    /** Requests refused at arrival (too large for the GPU pool); the connector never saw them. */
    public long requestsRefused() {
        return requestsRefused;
    }

    /** Finished-transfer reports a rank repeated before the transfer completed; ignored. */
    public long duplicateFinishedReports() {
        return duplicateFinishedReports;
    }

    /** Finished-transfer reports for a transfer that completed recently (no longer awaited); ignored. */
    public long lateFinishedReports() {
        return lateFinishedReports;
    }

    /** Finished-transfer reports for a request the scheduler did not wait for, nor completed recently; ignored. */
    public long unknownFinishedReports() {
        return unknownFinishedReports;
    }
}
