package io.kvconnect.api;

import io.kvconnect.api.common.Stability;

/** The context of a scheduler-side connector. */
@Stability(Stability.Level.EVOLVING)
public interface SchedulerContext extends ConnectorContext {
    /**
     * The same context for a child connector at {@code childName} (appended to {@link
     * #instanceName()}), for composites.
     */
    SchedulerContext child(String childName);
}
