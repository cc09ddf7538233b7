/**
 * The scheduler-side role of a connector and the read-only views the engine lends it.
 *
 * <p><b>What is here.</b> {@link io.kvconnect.api.scheduler.SchedulerConnector}, the role; the
 * answers its hooks return ({@link io.kvconnect.api.scheduler.MatchResult}, {@link
 * io.kvconnect.api.scheduler.FinishResult}, {@link io.kvconnect.api.scheduler.ResetResult}); and
 * the views it reads: requests ({@link io.kvconnect.api.scheduler.RequestView}, {@link
 * io.kvconnect.api.scheduler.RequestStatus}), the scheduler's state ({@link
 * io.kvconnect.api.scheduler.SchedulerState}) and one step's decisions ({@link
 * io.kvconnect.api.scheduler.SchedulerOutputView}, {@link
 * io.kvconnect.api.scheduler.ScheduledRequest}), and this connector's counted view of the GPU block
 * pool ({@link io.kvconnect.api.scheduler.GPUBlockPoolView}, {@link
 * io.kvconnect.api.scheduler.CachedBlockConsumer}).
 *
 * <p><b>Who implements and who calls.</b> A connector implements {@code SchedulerConnector}; the
 * engine calls it on its scheduler thread, one call at a time. The engine implements the views
 * and lends them to the hooks; a connector calls them on the scheduler thread only and copies what
 * it needs to keep (test doubles of the views are in the connector test kit). When a block id is
 * valid, which hook may touch which block and when blocks are freed is in {@code
 * docs/connector-lifecycle.md}.
 *
 * <p>Depends on {@code common} only.
 */
@NullMarked
package io.kvconnect.api.scheduler;

import org.jspecify.annotations.NullMarked;
