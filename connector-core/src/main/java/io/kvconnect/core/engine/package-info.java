/**
 * The engine itself: {@code Engine} runs one step as schedule, submit, collect, apply, keeps the
 * modelled clock and pacing, and detaches a connector that must go; {@code EngineSetup} is what it
 * is built from (an {@code EngineConfig} plus the connector's objects); {@code EngineInvariants}
 * checks after a step that every block is free or owned, reference counts balance and no request is
 * stuck; {@code EngineMetrics} counts what the run report shows.
 *
 * <p>One thread, the engine thread, calls an engine. Depends on the scheduler, the executor, the KV
 * bookkeeping, memory and the model; used by run, the command line and, through qualified exports,
 * the test kit and the tools. The step is mapped to its classes in {@code docs/engine.md}.
 */
@NullMarked
package io.kvconnect.core.engine;

import org.jspecify.annotations.NullMarked;
