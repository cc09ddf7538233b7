package io.kvconnect.core.exec;

import io.kvconnect.core.sched.ConnectorHook;

/**
 * A worker-side connector hook that threw.
 *
 * @param rank the worker
 * @param hook the hook
 * @param error the exception
 */
public record HookFailure(int rank, ConnectorHook hook, Throwable error) {
    /** Whether the failure may have left this step's loads incomplete. */
    public boolean affectsLoads() {
        return hook.affectsLoads();
    }

    @Override
    public String toString() {
        return "worker " + rank + " connector hook " + hook + " failed: " + error;
    }
}
