package io.kvconnect.core.sched;

/** What the engine does with a request whose external KV load failed. */
public enum LoadFailurePolicy {
    /** The request fails with a clear reason (the reference engine's default). */
    FAIL,
    /** The request recomputes from the first failed block. */
    RECOMPUTE
}
