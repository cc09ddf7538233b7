/**
 * Hit rate against the optimum: a host tier's trace of block accesses ({@link TierTrace}, recorded
 * by {@link TraceRecorder} or read back from a file), and what policies of any capacity would have
 * hit on it: the optimal offline policy (Belady's MIN with bypass, {@link Belady}), LRU's exact
 * miss-ratio curve from Mattson stack distances ({@link StackDistances}) and ARC simulated at a set
 * of capacities ({@link ArcSimulator}); {@link CapacityReport} prints them and {@link CapacityPlot}
 * draws the curves. docs/operations.md says how to read the report.
 */
package io.kvconnect.tools.capacity;
