package io.kvconnect.core.sched;

/**
 * A worker-side connector hook that threw or ran past the hook timeout; the worker went on with
 * its step. The scheduler decides what it means ({@link OutputApplier}): a hook that {@linkplain
 * ConnectorHook#affectsLoads() affects loads} fails the requests that loaded in the step, and
 * every failure counts under the connector error policy.
 *
 * @param rank the worker
 * @param hook the hook
 * @param error what it threw
 */
public record HookFailure(int rank, ConnectorHook hook, Throwable error) {
    @Override
    public String toString() {
        return "worker " + rank + " connector hook " + hook + " failed: " + error;
    }
}
