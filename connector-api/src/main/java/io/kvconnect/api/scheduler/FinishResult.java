package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;
import io.kvconnect.api.common.TransferParams;
import java.util.Objects;

/**
 * The answer of {@link SchedulerConnector#requestFinished}.
 *
 * @param delayFree whether the engine must keep the request's blocks until the workers report the
 *     request in finished sends (every worker, or as many as {@code
 *     SchedulerConnector.expectedFinishedCount()} names): a send or store is still reading them
 * @param params transfer parameters to attach to the request's final response; empty for none
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public record FinishResult(boolean delayFree, TransferParams params) {
    private static final FinishResult FREE_NOW = new FinishResult(false, TransferParams.empty());

    /** Validates. */
    public FinishResult {
        Objects.requireNonNull(params, "params");
    }

    /** {@return the answer "free the blocks now", without parameters} */
    public static FinishResult freeNow() {
        return FREE_NOW;
    }

    /**
     * {@return the answer "keep the blocks until finished sending is reported"}
     *
     * @param params the transfer parameters to attach to the request's final response
     */
    public static FinishResult delayFree(TransferParams params) {
        return new FinishResult(true, params);
    }
}
