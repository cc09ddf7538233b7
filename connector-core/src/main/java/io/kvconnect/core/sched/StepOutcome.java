package io.kvconnect.core.sched;

import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything {@link Scheduler#update} made of one step's result, for the engine: nothing about the
 * step is left in the scheduler to be read back afterwards. Every part is read-only and no longer
 * touched by the scheduler, the lent updates until the next {@link Scheduler#update}.
 *
 * <p>Besides the applied step's own effects it carries what was decided since the previous
 * outcome and not handed over yet: updates of requests finished while the next step was scheduled
 * (a hook failed, a load was given up), held outputs dropped by a preemption or an abort, KV events
 * of the pool between steps.
 *
 * @param updates what happened to requests, in order: sampled tokens and finished requests (with
 *     their reason when they failed); readable by index without an object per token, and
 *     lent: readable until the scheduler's next {@code update}, kept longer with {@link
 *     RequestUpdates#keep()}
 * @param discardedOutputs requests whose output of the applied step was discarded: finished
 *     (aborted, failed) meanwhile, stale after a preemption or truncation, or reading blocks a
 *     failed load reported in that very output; whatever they read in that step reached nobody
 * @param heldOutputs requests whose outputs of the applied step are held back until their loads
 *     settle; whether they are used is told by a later outcome's {@code holdResolutions}
 * @param holdResolutions held outputs released (used) or dropped, in order
 * @param events KV events of the GPU pool, the connector and the workers, in order
 * @param connectorStats the connector's stats reports (scheduler and worker sides), in order
 * @param disableConnector whether a hook failed under {@code connector_errors: disable} (or the
 *     connector stalled): the engine must shut the worker sides down and then call {@link
 *     Scheduler#disableConnector()}
 */
public record StepOutcome(
        RequestUpdates updates,
        Set<String> discardedOutputs,
        Set<String> heldOutputs,
        List<HoldResolution> holdResolutions,
        List<KvEvent> events,
        List<ConnectorStats> connectorStats,
        boolean disableConnector) {
    /**
     * Checks. The collections are taken as they are, not copied: the scheduler hands over
     * read-only ones it no longer touches, and copying a step's 256 token updates is measurable in
     * the step time.
     */
    public StepOutcome {
        Objects.requireNonNull(updates, "updates");
        Objects.requireNonNull(discardedOutputs, "discardedOutputs");
        Objects.requireNonNull(heldOutputs, "heldOutputs");
        Objects.requireNonNull(holdResolutions, "holdResolutions");
        Objects.requireNonNull(events, "events");
        Objects.requireNonNull(connectorStats, "connectorStats");
    }
}
