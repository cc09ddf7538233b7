package io.kvconnect.api.scheduler;

import io.kvconnect.api.common.Stability;
import java.util.List;
import java.util.Optional;

/**
 * A read-only view of the scheduler, bound once through {@link
 * SchedulerConnector#bindSchedulerState} so that a connector can plan ahead (prefetch for waiting
 * requests, keep blocks alive, evict what nobody will read).
 *
 * <p>Everything here is a view that hands out no engine object; nothing changes engine state except
 * {@link GPUBlockPoolView#touch}/{@link GPUBlockPoolView#free}, whose counts are kept per
 * connector. Scheduler thread only. The collections are immutable snapshots taken at each call.
 */
@Stability(Stability.Level.EVOLVING)
public interface SchedulerState {
    /** Tokens per KV block. */
    int blockSize();

    /** The number of the step being scheduled or last scheduled; starts at 0 and only grows. */
    long step();

    /** Whether the engine uses asynchronous scheduling. */
    boolean asyncScheduling();

    /** Waiting requests (including those waiting for remote KV), in scheduling order. */
    List<RequestView> waitingRequests();

    /** Running requests, in scheduling order. */
    List<RequestView> runningRequests();

    /** The request with this id, if the engine still knows it (a finished request whose blocks
     *  are held for a delayed free is still known). */
    Optional<RequestView> findRequest(String requestId);

    /** This connector's view of the GPU block pool. */
    GPUBlockPoolView gpuBlockPool();
}
