/**
 * The worker side of a step: the {@code Executor} hands a scheduled step to one {@code Worker} per
 * tensor-parallel rank, each on its own thread, and collects what they produced; a worker runs the
 * connector's worker hooks around the model's layers, records a failing hook instead of stopping,
 * and bounds each hook's time ({@code BoundedCall}); {@code KvOutputAggregator} folds the ranks'
 * connector outputs into one, and {@code AllReduce} combines their partial results.
 *
 * <p>Nothing here calls back into the scheduler: the executor returns the step's result and the
 * scheduler applies it. Depends on memory, the model, the block grants and the scheduler's step records and hook names.
 */
@NullMarked
package io.kvconnect.core.exec;

import org.jspecify.annotations.NullMarked;
