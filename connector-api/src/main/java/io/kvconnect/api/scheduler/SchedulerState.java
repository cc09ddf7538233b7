package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;
import java.util.List;
import java.util.Optional;

/**
 * A read-only view of the scheduler, bound once through {@link
 * SchedulerConnector#bindSchedulerState} so that a connector can plan ahead (prefetch for waiting
 * requests, keep blocks alive, evict what nobody will read).
 *
 * <p>Everything here is read-only: nothing changes engine state except {@link
 * GPUBlockPoolView#touch}/{@link GPUBlockPoolView#free}, whose counts are kept per connector.
 * Scheduler thread only. The request lists are unmodifiable views of the engine's queues, read
 * live: they change as the engine schedules, so iterate them within one hook call and copy what
 * must outlive it (the {@link RequestView}s in them stay valid as their class says).
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface SchedulerState {
    /** {@return the number of tokens per KV block} */
    int blockSize();

    /** {@return the number of the step being scheduled or last scheduled; starts at 0 and only grows} */
    long step();

    /** {@return whether the engine uses asynchronous scheduling} */
    boolean asyncScheduling();

    /** {@return the waiting requests (including those waiting for remote KV), in scheduling order} */
    List<RequestView> waitingRequests();

    /** {@return the running requests, in scheduling order} */
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
