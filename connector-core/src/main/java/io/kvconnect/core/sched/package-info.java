/**
 * The scheduler and everything it decides, one class per question: {@code StepPlanner} (what a step
 * computes within the token budget), {@code Admission} (whether and how a waiting request starts,
 * with the connector's matched tokens), {@code Preemption}, {@code OutputApplier} (what a step's
 * result does to requests), {@code TransferBook} (every block held for a send or a receive, and
 * the ranks' finished reports), {@code ConnectorCalls} (the only class that calls the scheduler side
 * of a connector; hooks of both sides are named by {@code ConnectorHook}), {@code
 * LoadFailureRecovery}, {@code HeldOutputs}, {@code ConnectorLiveness} and {@code SchedulerView}
 * (the read-only state connectors and invariant checks see). {@code Scheduler} coordinates them.
 *
 * <p>Engine thread only. Depends on the KV bookkeeping and the API; used by the engine and the
 * executor (the step's records). The table of which class answers which question is in {@code
 * docs/engine.md}.
 */
@NullMarked
package io.kvconnect.core.sched;

import org.jspecify.annotations.NullMarked;
