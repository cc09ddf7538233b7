/**
 * The scheduler-side role ({@link io.kvconnect.api.scheduler.SchedulerConnector}) and the read-only
 * views the engine lends it on the scheduler thread: requests ({@link
 * io.kvconnect.api.scheduler.RequestView}), the scheduler's state and output, and a counted view of
 * the GPU block pool.
 *
 * <p>Views are valid only during the call that hands them over, on the scheduler thread; a
 * connector copies what it needs to keep. Depends on {@code common} only.
 */
package io.kvconnect.api.scheduler;
