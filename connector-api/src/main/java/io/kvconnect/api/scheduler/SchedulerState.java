package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;
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
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface SchedulerState {
    /** {@return the tokens per KV block} */
    int blockSize();

    /** {@return the number of the step being scheduled or last scheduled; starts at 0 and only grows} */
    long step();

    /** {@return whether the engine uses asynchronous scheduling} */
    boolean asyncScheduling();

    /** {@return waiting requests (including those waiting for remote KV), in scheduling order} */
    List<RequestView> waitingRequests();

    /** {@return running requests, in scheduling order} */
    List<RequestView> runningRequests();

    /**
     * {@return the request with this id, if the engine still knows it} A finished request whose
     * blocks are held for a delayed free is still known.
     *
     * @param requestId a request id
     */
    Optional<RequestView> findRequest(String requestId);

    /** {@return this connector's view of the GPU block pool} */
    GPUBlockPoolView gpuBlockPool();
}
