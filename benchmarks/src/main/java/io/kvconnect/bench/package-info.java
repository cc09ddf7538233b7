/**
 * The project's benchmarks: JMH benchmarks of the scheduler step, the block pool and block copies,
 * run by {@code ./kvconnect bench} ({@code scripts/run-benchmarks.sh}), and a comparison of how the
 * engine times a slow connector thread. Runs on the class path because it measures the engine's
 * internals directly; no other module may depend on it.
 */
package io.kvconnect.bench;
