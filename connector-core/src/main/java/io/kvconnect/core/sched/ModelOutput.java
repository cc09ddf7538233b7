package io.kvconnect.core.sched;

import io.kvconnect.api.common.ConnectorOutput;
import java.util.Map;
import java.util.Objects;

/**
 * What the executor returns for one step.
 *
 * @param sampledTokens the token sampled for each request whose work sampled
 * @param connectorOutput the workers' aggregated connector output
 * @param failedRequests requests whose step failed on a worker (for example a connector hook threw
 *     while loading their KV), with the reason; they are finished with an error
 */
public record ModelOutput(Map<String, Integer> sampledTokens, ConnectorOutput connectorOutput,
                          Map<String, String> failedRequests) {
    /** Copies. */
    public ModelOutput {
        // Read-only view, not a copy: the executor builds a fresh map per step, and copying 256
        // entries every step is measurable in the scheduler's step time.
        sampledTokens = java.util.Collections.unmodifiableMap(sampledTokens);
        Objects.requireNonNull(connectorOutput, "connectorOutput");
        failedRequests = Map.copyOf(failedRequests);
    }
}
