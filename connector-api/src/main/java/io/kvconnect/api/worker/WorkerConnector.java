package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.HandshakeMetadata;
import java.util.Optional;
import java.util.Set;

/**
 * The worker-side role of a connector: one instance per worker (tensor-parallel rank), created by
 * {@code ConnectorProvider.createWorkerConnector}. It moves the bytes the scheduler side decided
 * on.
 *
 * <p><b>Threading.</b> Every method is called by this worker's own thread, one call at a time;
 * different workers' instances run concurrently on different threads and must share no mutable
 * state without synchronizing it. A connector may run its own threads for copies and network I/O;
 * results reach the engine only through {@link #reportStep} (and, once at start, {@link
 * #handshakeMetadata}).
 *
 * <p><b>One engine step</b> calls, in this order: {@link #handlePreemptions}, {@link
 * #bindConnectorMetadata}, {@link #startLoadKv}; then during the forward pass, per layer, {@link
 * #waitForLayerLoad} and {@link #saveKvLayer}; then {@link #waitForSave}, {@link #reportStep} and
 * {@link #clearConnectorMetadata}. Steps without a forward pass skip the per-layer calls and
 * {@code waitForSave}, but still call {@code reportStep} and {@code clearConnectorMetadata}, so
 * transfers complete while the engine idles.
 *
 * <p><b>Failure.</b> A failed load must be reported, never hidden: its GPU block ids in a step's
 * report no later than the report in which its request appears in finished receives (for an
 * asynchronous load), and the request must still appear there. An exception thrown from a hook
 * (or a call that runs past the engine's hook timeout) is contained by the engine and counts under
 * its connector error policy. A failure of {@link #handlePreemptions}, {@link
 * #bindConnectorMetadata}, {@link #startLoadKv}, {@link #waitForLayerLoad} or {@link #reportStep}
 * may have left the step's loads incomplete or unreported, so the engine then fails every request
 * that loaded in the step; a failure of {@link #saveKvLayer}, {@link #waitForSave} or {@link
 * #clearConnectorMetadata} fails no request.
 *
 * <p>New methods are added as {@code default} methods only.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface WorkerConnector {

    /**
     * The worker's KV cache exists. Called once, before the first step. Keep {@code copies} to move
     * blocks; register memory with a transport here, once, not per transfer.
     *
     * @param layout the shape of this worker's KV cache
     * @param copies the engine's copy service for this worker, valid until {@link #shutdown}
     */
    void registerKvCaches(KvLayout layout, BlockCopyService copies);

    /**
     * {@return this worker's handshake metadata for the scheduler side} What peers need to reach
     * this worker's transport (its address, agent metadata). Called once, on this worker's thread,
     * right after {@link #registerKvCaches}; the engine hands every rank's value, never aggregated,
     * to {@code SchedulerConnector.setHandshakeMetadata} before the first step. The counterpart of
     * the reference engine's {@code get_handshake_metadata}. Default: none.
     */
    default Optional<HandshakeMetadata> handshakeMetadata() {
        return Optional.empty();
    }

    /**
     * First call of every step, before anything reuses memory: requests preempted in the step
     * have lost their blocks, which may be reallocated in this very step. Finish or cancel every
     * copy still reading or writing them before returning. {@code metadata} is the step's
     * metadata (the same object {@link #bindConnectorMetadata} receives next). Default: nothing.
     *
     * @param metadata the step's metadata from the scheduler side
     */
    default void handlePreemptions(ConnectorMetadata metadata) {}

    /**
     * The step's metadata from the scheduler side; valid until {@link #clearConnectorMetadata}.
     *
     * @param metadata the object the scheduler side's {@code buildConnectorMetadata} returned, the
     *     same on every worker; {@link ConnectorMetadata#NONE} if that call failed
     */
    void bindConnectorMetadata(ConnectorMetadata metadata);

    /**
     * Starts this step's loads, before the forward pass. Asynchronous loads report completion
     * in a later {@link #reportStep}; synchronous loads must be complete by {@link #waitForLayerLoad}
     * of each layer (or by the end of this call).
     */
    void startLoadKv();

    /**
     * Blocks until layer {@code layer}'s synchronous loads of this step are in memory. Default:
     * nothing.
     *
     * @param layer the layer about to be computed, from 0 up
     */
    default void waitForLayerLoad(int layer) {}

    /**
     * Layer {@code layer}'s KV of this step is computed and may be saved. Default: nothing.
     *
     * @param layer the layer just computed, from 0 up
     */
    default void saveKvLayer(int layer) {}

    /** End of the forward pass: saves that must finish within the step finish here. Default: nothing. */
    default void waitForSave() {}

    /**
     * The step's outcome on this worker, stated once: transfers that finished since the previous
     * report, failed loads, stats, KV events and the worker metadata for the scheduler side. Called
     * once per step, after {@link #waitForSave} (or, in a step without a forward pass, after
     * {@link #startLoadKv}), so transfers complete while the engine idles.
     *
     * <p><b>Failure.</b> If this throws (or returns {@code null}), the engine loses the whole
     * report of this worker for this step and cannot know which loads failed: it fails every
     * request that loaded in the step (see the engine's load-failure handling), and the failure
     * counts under its connector error policy. Transfers drained into a lost report are never
     * reported, so their requests wait until the engine gives up on them. A connector therefore
     * builds its report so that one failing part does not take the others with it (see {@link
     * WorkerStepReport}), and names a failure it contained in {@link WorkerStepReport#failure()}:
     * the engine handles that the same way but keeps every part reported.
     *
     * @param finishedRequestIds requests that finished since the previous step (the same set the
     *     scheduler side saw); a request for which the scheduler side delayed the free may be
     *     reported as sending once its sends are done
     * @return this worker's report; {@link WorkerStepReport#EMPTY} when there is nothing to say
     */
    WorkerStepReport reportStep(Set<String> finishedRequestIds);

    /** Last call of every step; forget the bound metadata. */
    default void clearConnectorMetadata() {}

    /**
     * The engine is shutting down, or detaches this connector. Called once, last, before the
     * scheduler side's {@code shutdown}: stop threads (so no copy of this connector runs once this
     * returns), close host buffers. Must not throw for a second call. Default: nothing.
     */
    default void shutdown() {}
}
