package io.kvconnect.core.exec;

/**
 * A worker-side connector hook that threw.
 *
 * @param rank the worker
 * @param hook the hook's name
 * @param error the exception
 */
public record HookFailure(int rank, String hook, Throwable error) {
    /** Whether the failure may have left this step's loads incomplete. */
    public boolean affectsLoads() {
        return switch (hook) {
            case "handlePreemptions", "bindConnectorMetadata", "startLoadKv", "waitForLayerLoad",
                 "getBlockIdsWithLoadErrors" -> true;
            default -> false;
        };
    }

    @Override
    public String toString() {
        return "worker " + rank + " connector hook " + hook + " failed: " + error;
    }
}
