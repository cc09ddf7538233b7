package io.kvconnect.core.config;

/**
 * Whether an engine step lasts, in wall time, at least the time it models.
 *
 * <p>The engine models GPU compute: a step that models 6 ms may take 0.4 ms of wall time. Its own
 * copies are fair either way (each worker lets its copy stream use the rest of the modelled compute
 * window), and so is whatever blocks a worker (a synchronous load is wall time inside the step). A
 * connector's own threads are not: an asynchronous load done by a thread of its own that takes 5
 * ms of wall time spans a dozen such steps, and is charged every modelled millisecond of them.
 * Pacing makes wall time follow modelled time, so work on any thread is charged what it really
 * takes.
 */
public enum Pacing {
    /** No step waits: fastest; a connector's own threads are charged for the modelled steps they span. */
    OFF,
    /**
     * Steps during which a request waits for an asynchronous load last their modelled time in wall
     * time: fair to connectors that load on their own threads, at little cost to runs without them.
     */
    LOADS,
    /** Every step lasts its modelled time in wall time: the engine runs in real time. */
    ALWAYS
}
