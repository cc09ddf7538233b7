package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.KvEvent;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The scheduler-side role of a connector: one instance per engine, created by {@code
 * ConnectorProvider.createSchedulerConnector}. It decides what to load and what to keep, and tells
 * its worker sides through {@link ConnectorMetadata}.
 *
 * <p><b>Threading.</b> Every method is called by the engine's scheduler thread, one call at a time,
 * so an implementation needs no locking for state only these methods touch. Methods must not block
 * on I/O or on the workers: they run inside the engine step, and a slow hook slows every request.
 * Work that takes time belongs on the worker side or on the connector's own threads.
 *
 * <p><b>One engine step</b> calls, in this order: for each waiting request considered, {@link
 * #getNumNewMatchedTokens} and, when its blocks were allocated, {@link #updateStateAfterAlloc}; then
 * {@link #buildConnectorMetadata} once; the workers run; then, while the step's output is applied,
 * {@link #requestFinished} for each request that finished in the step, then {@link
 * #updateConnectorOutput} with the aggregated worker output (the reference engine's order too: a
 * request finished in a step is known before that step's finished transfers are), then {@link
 * #takeEvents} and {@link #takeStats}. Aborts between steps call {@link #requestFinished} outside
 * this order. With asynchronous scheduling the next step's scheduling happens before the previous
 * step's output is processed.
 *
 * <p><b>Failure.</b> An exception thrown from a hook is contained by the engine: the requests the
 * hook was about fail with the exception as their reason (or, if so configured, the connector is
 * disabled), the engine logs it and goes on, and nothing leaks. A connector must still leave its own
 * state consistent when it throws.
 *
 * <p>New methods are added as {@code default} methods only.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface SchedulerConnector {

    /**
     * Binds the read-only scheduler view. Called once, after construction and before the first
     * step. The view stays valid for the engine's lifetime. Default: ignored.
     *
     * @param state the engine's scheduler, read-only, with this connector's own pool view
     */
    default void bindSchedulerState(SchedulerState state) {}

    /**
     * The worker sides' handshake metadata, by rank: what each returned from {@code
     * WorkerConnector.handshakeMetadata()} (ranks that returned none are absent). Called once,
     * after {@link #bindSchedulerState}, after every worker registered its KV cache and before the
     * first step, so a connector learns its workers' transport addresses (agent metadata, ports)
     * before any request finishes and can put them into transfer parameters. The counterpart of
     * the reference engine's {@code set_xfer_handshake_metadata}. Must not block on I/O (serving
     * the metadata to peers belongs on the connector's own threads). Default: ignored.
     *
     * @param byRank every rank's value as its worker returned it (of the connector's own type);
     *     immutable
     */
    default void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {}

    /**
     * A request was added to the engine (called once per request id, before it is first
     * considered for scheduling). Default: nothing.
     *
     * @param request the new request
     */
    default void onNewRequest(RequestView request) {}

    /**
     * How many tokens beyond the local GPU prefix hit this connector can provide for {@code
     * request}.
     *
     * <p>Called while the request waits and has no computed tokens (new, or preempted and so
     * recomputed), after the engine's own prefix-cache lookup. It may be called again for the same
     * request in later steps — when allocation failed, after {@link MatchResult#askLater()}, after a
     * preemption — so any pin or reservation taken here must be released or replaced on the next
     * call and released in {@link #requestFinished}. Consider only the longest prefix that can be
     * loaded now, and never more than {@code request.numTokens() - localHitTokens}: the
     * engine recomputes at least the last prompt token to get logits, so a full-prompt hit is
     * trimmed by the engine, not an error.
     *
     * <p><b>Inside a composite</b> (since 0.2; {@code docs/connectors/multi.md}) a connector may be
     * asked about the tokens after other connectors' runs: {@code localHitTokens} is then the GPU
     * prefix hit plus the runs that connectors of higher priority load in the same step. Count the
     * answer from {@code localHitTokens} exactly as for a GPU hit (offer only the run that starts
     * there; what this connector holds before it is not asked for), and do not rely on those
     * tokens' blocks being filled before this connector's own load runs.
     *
     * @param request the waiting request
     * @param localHitTokens tokens the request has before the run this connector is asked about (a
     *     multiple of the block size): those found in the GPU prefix cache, and inside a composite
     *     also the runs its connectors of higher priority load
     * @return external tokens and whether they load asynchronously, or {@link MatchResult#askLater()}
     */
    MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens);

    /**
     * Blocks were allocated for {@code request}.
     *
     * <p>Called right after a successful allocation of a waiting request. {@code blocks} are
     * <em>all</em> blocks the request owns (what {@code request.blockIds()} returns during this
     * call), laid out as {@code | local hit | external | new |}: the first {@code localHitTokens /
     * blockSize} blocks hold the local prefix hit, the external range, which a load fills, is
     * blocks {@code [localHitTokens / blockSize, ceil((localHitTokens + externalTokens) /
     * blockSize))}, and the rest are computed. For an asynchronous load this is called twice:
     * first with {@code externalTokens} equal to the promised count (load into the blocks covering
     * the external range), then, once the load has finished and the request is scheduled for
     * compute, with {@code externalTokens == 0} and {@code localHitTokens == 0} (no lookup precedes
     * that allocation). Decide
     * on loading from {@code externalTokens}, not from {@code blocks}: it may be less than {@link
     * #getNumNewMatchedTokens} offered, never more (the engine recomputes the last prompt token,
     * and a request whose earlier load failed may load again at most once, never from the block
     * that failed); load exactly that many tokens, the first ones of the offer, and nothing when it
     * is 0.
     *
     * <p>If this throws for an asynchronous load, the request fails, but the engine cannot know
     * whether a copy into its blocks was already planned, so it keeps the blocks until the request
     * appears in finished receives. The connector must therefore still report it there (at once,
     * if it planned nothing), or the blocks stay held.
     *
     * @param request the request
     * @param blocks every block the request owns, {@code | local hit | external | new |}; valid
     *     during this call only (see {@code docs/connector-lifecycle.md})
     * @param localHitTokens the local prefix hit this allocation took, in tokens (a multiple of the
     *     block size): the value the last {@link #getNumNewMatchedTokens} for the request was given
     *     (inside a composite, the prefix this connector's run starts at, so the external range is
     *     exactly its own blocks); 0 in the second call of an asynchronous load
     * @param externalTokens the tokens to load into the external range, at most the offer; 0 for
     *     none
     */
    void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens);

    /**
     * Builds this step's metadata for the workers. Called once per step after every scheduling
     * decision, before the step runs; resets the connector's per-step state. Must not keep or
     * modify {@code output}. The returned object is handed to every worker (see {@link
     * ConnectorMetadata} for why it must be immutable).
     *
     * @param output the step's scheduling decisions
     * @return the metadata; {@link ConnectorMetadata#NONE} when there is nothing to say
     */
    ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output);

    /**
     * The workers' aggregated output of a step. Called once per step after the workers finished,
     * before the engine acts on finished receives and sends (so a connector can release its own
     * state first). Default: ignored.
     *
     * @param output what the workers reported, aggregated over the workers
     */
    default void updateConnectorOutput(ConnectorOutput output) {}

    /**
     * {@code request} finished (stopped, capped, aborted or failed). Called exactly once per
     * request that was ever added, before its blocks are freed — also for a request aborted while
     * its asynchronous load is in flight (the engine then keeps the blocks until the load reports).
     *
     * <p>This is the last hook in which the request's blocks are certainly its own. Two ways keep
     * them beyond it: {@link FinishResult#delayFree} keeps all of them until the workers report
     * the request in finished sends (a send reading them); {@link GPUBlockPoolView#touch} on some
     * of them here keeps those (a store of the last blocks, say) until the connector frees its
     * references, while the engine frees the rest now. Otherwise the engine frees them as soon as
     * this returns and they may belong to another request in the next step.
     *
     * @param request the finished request (status is a finished one)
     * @param blockIds the blocks the request owns, as {@code request.blockIds()} returns them
     *     during this call
     * @return whether to delay freeing the blocks until the request appears in finished sends, and
     *     the transfer parameters for the response. Default: free now, no parameters.
     */
    default FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        return FinishResult.freeNow();
    }

    /**
     * {@return the scheduler side's KV events since the previous call, in order} Called once per
     * step. Default: none.
     */
    default List<KvEvent> takeEvents() {
        return List.of();
    }

    /**
     * {@return the scheduler side's stats since the previous call (then reset)} Called once per
     * step; merged with the workers' stats. Default: none.
     */
    default Optional<ConnectorStats> takeStats() {
        return Optional.empty();
    }

    /**
     * Drops everything the connector has cached (operator's cache reset).
     *
     * @return whether the cache is gone; default: {@link ResetResult#NOT_SUPPORTED}
     */
    default ResetResult resetCache() {
        return ResetResult.NOT_SUPPORTED;
    }

    /**
     * {@return how many worker reports complete one request's send or receive} Read once, after
     * {@link #bindSchedulerState}. Empty means every worker must report (the tensor-parallel size). A
     * connector whose transfers are reported by fewer workers returns that count.
     */
    default OptionalInt expectedFinishedCount() {
        return OptionalInt.empty();
    }

    /**
     * {@return whether the connector has work in flight that needs the engine to keep stepping
     * even with no request to compute} Delayed frees, leases, stores still running: the engine
     * keeps calling the hooks (and the workers' {@code reportStep}) while this is true, so leases
     * expire and final stores complete without waiting for new traffic. Default: {@code false}.
     */
    default boolean hasPendingWork() {
        return false;
    }

    /**
     * The engine is shutting down, or detaches this connector. Called once, last: after every
     * worker side's {@code shutdown} returned, so no worker copy of this connector runs any more.
     * Release threads and memory, and free the GPU block references still held for copies that
     * never ended; the engine returns those left after this call and reports them as a leak. Must
     * not throw for a second call. Default: nothing.
     */
    default void shutdown() {}
}
