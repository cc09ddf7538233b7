package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;

/** The answer of {@link SchedulerConnector#resetCache}. */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public enum ResetResult {
    /** Everything the connector cached is gone. */
    RESET,
    /** The connector could not reset (for example transfers in flight); try again later. */
    FAILED,
    /** The connector keeps no cache to reset. */
    NOT_SUPPORTED
}
